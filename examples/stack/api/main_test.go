package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A stand-in engine that ranks the catalog backwards and names itself.
func fakeEngine(t *testing.T, status int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct { // the engine's Item: nothing else is accepted
			Items []struct {
				ID, Name string
				Up, Down int
			}
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || r.URL.Path != "/v1/rank" || len(req.Items) != len(catalog) {
			t.Errorf("engine got %s %s with %d items: %v", r.Method, r.URL.Path, len(req.Items), err)
		}
		w.WriteHeader(status)
		ranked := []Feature{}
		for i := len(req.Items) - 1; i >= 0; i-- {
			it := req.Items[i]
			ranked = append(ranked, Feature{ID: it.ID, Name: it.Name, Up: it.Up, Down: it.Down, Rank: len(ranked) + 1})
		}
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"engine": "engine-1", "version": "t", "ranked": ranked})
	}))
}

func get(t *testing.T, url string) (*http.Response, Features) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f Features
	_ = json.NewDecoder(resp.Body).Decode(&f)
	return resp, f
}

func TestFeaturesComeFromTheEngine(t *testing.T) {
	eng := fakeEngine(t, http.StatusOK)
	defer eng.Close()
	api := httptest.NewServer(handler(eng.URL))
	defer api.Close()
	resp, f := get(t, api.URL+"/api/features")
	if resp.StatusCode != 200 || f.Engine != "engine-1" || f.API == "" {
		t.Fatalf("status %d, reply %+v", resp.StatusCode, f)
	}
	if len(f.Features) != len(catalog) || f.Features[0].ID != catalog[len(catalog)-1].ID || f.Features[0].Rank != 1 {
		t.Fatalf("not the engine's order: %+v", f.Features)
	}
}

func TestEngineFailureIsBadGateway(t *testing.T) {
	eng := fakeEngine(t, http.StatusInternalServerError)
	defer eng.Close()
	api := httptest.NewServer(handler(eng.URL))
	defer api.Close()
	if resp, _ := get(t, api.URL+"/api/features"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	api2 := httptest.NewServer(handler("http://127.0.0.1:1"))
	defer api2.Close()
	if resp, _ := get(t, api2.URL+"/api/features"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("engine down: status %d, want 502", resp.StatusCode)
	}
}
