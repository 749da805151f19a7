// The dockerverse backend: a small JSON API behind nginx.
//
//	GET /api/health  -> {"status":"ok"}        (the container healthcheck)
//	GET /api/info    -> version, platform, uptime, hostname
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Set at build time with -ldflags "-X main.version=...".
var version = "dev"

type info struct {
	Version  string `json:"version"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Hostname string `json:"hostname"`
	Uptime   string `json:"uptime"`
	User     int    `json:"uid"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("encode: %v", err)
	}
}

func routes(started time.Time) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/api/info", func(w http.ResponseWriter, r *http.Request) {
		host, _ := os.Hostname()
		writeJSON(w, info{
			Version:  version,
			OS:       runtime.GOOS,
			Arch:     runtime.GOARCH,
			Hostname: host,
			Uptime:   time.Since(started).Round(time.Second).String(),
			User:     os.Getuid(),
		})
	})
	return mux
}

func main() {
	addr := flag.String("listen", "127.0.0.1:3001", "address to listen on")
	flag.Parse()

	srv := &http.Server{
		Addr:              *addr,
		Handler:           routes(time.Now()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	// Stop cleanly on SIGTERM/SIGINT: the supervisor forwards docker stop.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("dockerverse backend %s listening on %s (%s/%s)", version, *addr, runtime.GOOS, runtime.GOARCH)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
