package walsync

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, p, data string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func pass(t *testing.T, s *Syncer) int {
	t.Helper()
	n, err := s.Pass()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPassSyncsWhatChanged(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "healthsync_a.sqlite-wal")
	b := filepath.Join(dir, "healthsync_b.sqlite-wal")
	write(t, a, "frames")
	write(t, b, "frames")
	write(t, filepath.Join(dir, "healthsync_a.sqlite"), "not a log") // the database file itself is SQLite's to sync
	s := New(dir)

	// Each step: what is written before the pass, and how many logs the pass syncs. A log that
	// changed is synced once more in the next pass (a write right after its stat may not show).
	steps := []struct {
		write string
		want  int
	}{
		{"", 2}, {"", 2}, {"", 0},
		{a, 1}, {"", 1}, {"", 0},
	}
	for i, step := range steps {
		if step.write != "" {
			write(t, step.write, "more frames")
		}
		if n := pass(t, s); n != step.want {
			t.Fatalf("pass %d synced %d logs, want %d", i+1, n, step.want)
		}
	}
}

func TestPassForgetsDroppedDatabases(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "healthsync_a.sqlite-wal")
	write(t, a, "frames")
	s := New(dir)
	pass(t, s)
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	if n := pass(t, s); n != 0 {
		t.Fatalf("synced %d logs of a dropped database", n)
	}
	if len(s.last) != 0 || len(s.fresh) != 0 {
		t.Fatalf("still remembers %d/%d files", len(s.last), len(s.fresh))
	}
	// A database created again under the same name is a new log to sync.
	write(t, a, "new frames")
	if n := pass(t, s); n != 1 {
		t.Fatalf("synced %d logs of the new database, want 1", n)
	}
}
