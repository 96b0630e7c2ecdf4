package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestHealthz(t *testing.T) {
	var ready atomic.Bool
	recorder := httptest.NewRecorder()
	routes(&ready).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if recorder.Code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, want 200", recorder.Code)
	}
}

func TestReadyzBeforeStart(t *testing.T) {
	var ready atomic.Bool
	recorder := httptest.NewRecorder()
	routes(&ready).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if recorder.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz before start = %d, want 503", recorder.Code)
	}
}
