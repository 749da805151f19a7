package svc

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServeStopsWhenCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, http.HandlerFunc(Healthz)) }()
	if err := Probe("http://" + ln.Addr().String() + "/healthz"); err != nil {
		t.Fatalf("probe a running server: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestProbeFailsOnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Error(w, http.StatusServiceUnavailable, "down")
	}))
	defer srv.Close()
	if err := Probe(srv.URL); err == nil {
		t.Fatal("probe of a 503 succeeded")
	}
}

func TestOnlyRefusesOtherMethods(t *testing.T) {
	h := Only(http.MethodPost, Healthz)
	for m, want := range map[string]int{http.MethodPost: 200, http.MethodGet: 405, http.MethodDelete: 405} {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(m, "/", nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", m, rec.Code, want)
		}
		if want == 405 && rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: Allow %q", m, rec.Header().Get("Allow"))
		}
	}
}
