package main

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		up, down int
		want     float64
	}{{0, 0, 0}, {90, 10, 0.8256}, {2, 0, 0.3424}, {0, 5, 0}} {
		if got := math.Round(wilson(c.up, c.down)*1e4) / 1e4; got != c.want {
			t.Errorf("wilson(%d, %d) = %v, want %v", c.up, c.down, got, c.want)
		}
	}
}

func TestRankOrdersByLowerBound(t *testing.T) {
	got, err := rank([]Item{{ID: "few", Up: 2}, {ID: "many", Up: 90, Down: 10}, {ID: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "many,few,none" || got[0].Rank != 1 || got[2].Rank != 3 {
		t.Fatalf("ranking: %+v", got)
	}
	if _, err := rank([]Item{{ID: "x", Up: -1}}); err == nil {
		t.Fatal("negative votes accepted")
	}
}

func TestRankEndpoint(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/rank", "application/json",
		strings.NewReader(`{"items":[{"id":"a","up":1},{"id":"b","up":9,"down":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out RankResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if len(out.Ranked) != 2 || out.Ranked[0].ID != "b" || out.Engine == "" {
		t.Fatalf("reply: %+v", out)
	}
	resp2, err := http.Post(srv.URL+"/v1/rank", "application/json", strings.NewReader(`{"items":[{"id":""}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an item without id: status %d", resp2.StatusCode)
	}
}
