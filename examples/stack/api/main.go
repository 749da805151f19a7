// Command api is the stack's HTTP API: GET /api/features answers the feature
// requests of its catalog ranked by the engine ($ENGINE_URL), and says which
// api and engine instances answered.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"example.com/stack/internal/svc"
)

// Feature is a feature request with its votes, as the engine ranks it.
type Feature struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Up    int     `json:"up"`
	Down  int     `json:"down"`
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

// Features is the reply of GET /api/features.
type Features struct {
	API           string    `json:"api"`
	Engine        string    `json:"engine"`
	EngineVersion string    `json:"engine_version"`
	Features      []Feature `json:"features"`
}

// catalog is the data the API owns (a database in a real stack).
var catalog = []Feature{
	{ID: "multi-arch", Name: "Multi-platform images", Up: 412, Down: 17},
	{ID: "cache-mounts", Name: "Cache mounts", Up: 268, Down: 9},
	{ID: "rootless", Name: "Rootless builds", Up: 35, Down: 1},
	{ID: "sbom", Name: "SBOM export", Up: 3, Down: 0},
	{ID: "windows", Name: "Windows containers", Up: 20, Down: 31},
}

// ranked asks the engine to rank the catalog.
func ranked(ctx context.Context, c *http.Client, engine string) (Features, error) {
	var out Features
	type item struct { // what the engine takes
		ID   string `json:"id"`
		Name string `json:"name"`
		Up   int    `json:"up"`
		Down int    `json:"down"`
	}
	items := make([]item, len(catalog))
	for i, f := range catalog {
		items[i] = item{f.ID, f.Name, f.Up, f.Down}
	}
	body, err := json.Marshal(map[string][]item{"items": items})
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, engine+"/v1/rank", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("engine: %s", resp.Status)
	}
	var r struct {
		Engine  string    `json:"engine"`
		Version string    `json:"version"`
		Ranked  []Feature `json:"ranked"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&r); err != nil {
		return out, fmt.Errorf("engine reply: %v", err)
	}
	return Features{Engine: r.Engine, EngineVersion: r.Version, Features: r.Ranked}, nil
}

func handler(engine string) http.Handler {
	host := svc.Hostname()
	// Shorter than the UI's 5 s for the whole page: when the engine is slow
	// or gone, the UI gets this API's 502 and its reason, not a timeout.
	client := &http.Client{Timeout: 3 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", svc.Healthz)
	mux.HandleFunc("/api/features", svc.Only(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		f, err := ranked(r.Context(), client, engine)
		if err != nil {
			svc.Error(w, http.StatusBadGateway, err.Error())
			return
		}
		f.API = host
		svc.JSON(w, http.StatusOK, f)
	}))
	return mux
}

func main() {
	engine := os.Getenv("ENGINE_URL")
	if engine == "" {
		engine = "http://engine:9090"
	}
	svc.Main("api", "8080", handler(engine))
}
