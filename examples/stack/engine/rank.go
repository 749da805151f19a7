package main

import (
	"fmt"
	"math"
	"sort"
)

// Item is something people voted on.
type Item struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Up   int    `json:"up"`
	Down int    `json:"down"`
}

// Scored is an item with its score and its place in the ranking (1 first).
type Scored struct {
	Item
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

// maxItems bounds one request's work.
const maxItems = 10000

// wilson is the lower bound of the 95% Wilson score interval of the share
// of up votes: ranking by it puts 90 up / 10 down above 2 up / 0 down, which
// the plain ratio would not.
func wilson(up, down int) float64 {
	n := float64(up + down)
	if n == 0 {
		return 0
	}
	const z = 1.959963984540054
	p := float64(up) / n
	return (p + z*z/(2*n) - z*math.Sqrt((p*(1-p)+z*z/(4*n))/n)) / (1 + z*z/n)
}

// rank scores the items (to 4 decimals) and sorts them best first, ties by id.
func rank(items []Item) ([]Scored, error) {
	if len(items) > maxItems {
		return nil, fmt.Errorf("too many items: %d (at most %d)", len(items), maxItems)
	}
	out := make([]Scored, 0, len(items))
	for _, it := range items {
		if it.ID == "" || it.Up < 0 || it.Down < 0 {
			return nil, fmt.Errorf("item %q: needs an id and vote counts >= 0", it.ID)
		}
		out = append(out, Scored{Item: it, Score: math.Round(wilson(it.Up, it.Down)*1e4) / 1e4})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out, nil
}
