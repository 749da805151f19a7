// Command engine is the stack's scoring engine: POST /v1/rank with
// {"items": [{"id", "up", "down"}, ...]} answers the items ranked by the
// Wilson lower bound of their votes, with the engine instance that did it.
package main

import (
	"encoding/json"
	"net/http"

	"example.com/stack/internal/svc"
)

// RankRequest is the body of POST /v1/rank.
type RankRequest struct {
	Items []Item `json:"items"`
}

// RankResponse is its reply.
type RankResponse struct {
	Engine  string   `json:"engine"`
	Version string   `json:"version"`
	Ranked  []Scored `json:"ranked"`
}

func handler() http.Handler {
	host := svc.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", svc.Healthz)
	mux.HandleFunc("/v1/rank", svc.Only(http.MethodPost, func(w http.ResponseWriter, r *http.Request) {
		var req RankRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			svc.Error(w, http.StatusBadRequest, "bad request body: "+err.Error())
			return
		}
		ranked, err := rank(req.Items)
		if err != nil {
			svc.Error(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		svc.JSON(w, http.StatusOK, RankResponse{Engine: host, Version: svc.Version, Ranked: ranked})
	}))
	return mux
}

func main() {
	svc.Main("engine", "9090", handler())
}
