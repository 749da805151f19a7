// Package svc is what the stack's Go services share: the HTTP server with a
// graceful stop on SIGTERM, the -healthcheck probe their images run, and JSON
// replies.  Standard library only.
package svc

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs a service named name on :$PORT (default port).  With -healthcheck
// it instead asks the running service's /healthz and exits 0 or 1: the
// production images are FROM scratch, without curl, so the binary is its own
// probe.
func Main(name, port string, h http.Handler) {
	probe := flag.Bool("healthcheck", false, "probe http://127.0.0.1:$PORT/healthz and exit")
	flag.Parse()
	if p := os.Getenv("PORT"); p != "" {
		port = p
	}
	if *probe {
		if err := Probe("http://127.0.0.1:" + port + "/healthz"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	// The Go runtime would exit on SIGTERM (`docker stop`) mid-request;
	// catching it lets the requests in flight finish first.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	log.Printf("%s %s listening on %s", name, Version, ln.Addr())
	signalled := make(chan time.Time, 1)
	go func() { <-ctx.Done(); signalled <- time.Now() }()
	if err := Serve(ctx, ln, h); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	log.Printf("%s: stopped (%v after the signal)", name, time.Since(<-signalled).Round(time.Microsecond))
}

// Version is set at link time (-ldflags "-X example.com/stack/internal/svc.Version=...").
var Version = "dev"

// Serve serves h on ln until ctx is done, then lets requests in flight
// finish (for at most 5 s).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Probe is the healthcheck: url must answer 200 within 2 s.
func Probe(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// Hostname names the instance in replies (in Docker: the container id), so a
// client can tell which instance answered.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// JSON writes v as the reply with the given status.
func JSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("reply: %v", err)
	}
}

// Error replies {"error": msg} with the given status.
func Error(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, map[string]string{"error": msg})
}

// Only serves requests with method m with h, and answers 405 to the others.
func Only(m string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m {
			w.Header().Set("Allow", m)
			Error(w, http.StatusMethodNotAllowed, "use "+m)
			return
		}
		h(w, r)
	}
}

// Healthz is the liveness endpoint every service mounts at /healthz.
func Healthz(w http.ResponseWriter, r *http.Request) {
	JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
