// Package walsync makes SQLite's write-ahead logs durable on a timer instead of at every commit.
//
// The embedded FerretDB runs SQLite in WAL mode with synchronous=NORMAL: a commit is written to
// the database's -wal file (the operating system's page cache) and survives any crash of the
// process, but reaches the disk only when the OS writes it back or at the next checkpoint. A
// Syncer fsyncs every -wal file that changed, every interval (group commit): after a power loss
// or an OS crash at most the last interval of acknowledged writes can be missing, as with
// MongoDB's journal (storage.journal.commitIntervalMs, 100 ms, for writes without j:true). With
// synchronous=FULL (SQLite's default) every commit waits for its own fsync.
package walsync

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

type stamp struct {
	size int64
	mod  time.Time
}

// Syncer remembers what it saw of each -wal file of one folder at its last pass.
type Syncer struct {
	dir  string
	last map[string]stamp
	// Files that changed in the last pass are synced once more in the next: a write right after
	// the pass's stat may leave size and (coarse) mtime as they were.
	fresh map[string]bool
}

// New returns a Syncer for the SQLite files in dir.
func New(dir string) *Syncer {
	return &Syncer{dir: dir, last: map[string]stamp{}, fresh: map[string]bool{}}
}

// Pass fsyncs each -wal file that changed since the previous pass (or in the one before it) and
// returns how many it synced. A file that vanished meanwhile (a dropped database) is forgotten.
func (s *Syncer) Pass() (int, error) {
	paths, err := filepath.Glob(filepath.Join(s.dir, "*-wal"))
	if err != nil {
		return 0, err
	}
	present := make(map[string]bool, len(paths))
	synced := 0
	var firstErr error
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue // removed between the listing and now
		}
		present[p] = true
		now := stamp{fi.Size(), fi.ModTime()}
		changed := now != s.last[p]
		if !changed && !s.fresh[p] {
			continue
		}
		s.last[p] = now
		s.fresh[p] = changed
		if err := syncFile(p); err != nil && !os.IsNotExist(err) && firstErr == nil {
			firstErr = err
		}
		synced++
	}
	for p := range s.last {
		if !present[p] {
			delete(s.last, p)
			delete(s.fresh, p)
		}
	}
	return synced, firstErr
}

// fsync applies to the file, not the descriptor: syncing a descriptor of our own makes SQLite's
// writes through its descriptors durable too.
func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Run makes a pass every `every` until ctx ends, then a last one.
func (s *Syncer) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for ended := false; !ended; {
		select {
		case <-ctx.Done():
			ended = true
		case <-t.C:
		}
		if _, err := s.Pass(); err != nil {
			log.Error("walsync: pass", "err", err, "last", ended)
		}
	}
}
