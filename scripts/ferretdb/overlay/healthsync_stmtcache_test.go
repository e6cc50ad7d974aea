// HealthSync: tests of healthsync_stmtcache.go, run by hand after a build:
// cd scripts/ferretdb && go test -modfile=../../.tools/ferretdb-patched/go.mod github.com/FerretDB/FerretDB/internal/util/fsql -run Healthsync

package fsql

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

func healthsyncOpen(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.sqlite")+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { healthsyncForget(db); _ = db.Close() })
	return db
}

func healthsyncKept(db *sql.DB) int {
	healthsyncStmtsMu.Lock()
	defer healthsyncStmtsMu.Unlock()
	return healthsyncCounts[db]
}

func TestHealthsyncCacheable(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                        true,
		"  insert INTO t VALUES (?)":      true,
		"UPDATE t SET a = ?":              true,
		"DELETE FROM t":                   true,
		"CREATE TABLE t (a)":              false,
		"SELECT 1; SELECT 2":              false,
		"PRAGMA wal_checkpoint(TRUNCATE)": false,
		"SELECT":                          false,
	} {
		if got := healthsyncCacheable(q); got != want {
			t.Errorf("healthsyncCacheable(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestHealthsyncKeepsAndReusesStatements(t *testing.T) {
	ctx := context.Background()
	db := healthsyncOpen(t)
	if _, err := healthsyncExec(ctx, db, "CREATE TABLE t (a TEXT)"); err != nil {
		t.Fatal(err)
	}
	if healthsyncKept(db) != 0 {
		t.Fatal("a CREATE TABLE was kept")
	}

	// Writes in transactions and reads outside, many times over: one kept statement each.
	for i := 0; i < 20; i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := healthsyncTxExec(ctx, tx, db, "INSERT INTO t (a) VALUES (?)", "x"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for i := 0; i < 5; i++ {
		if err := healthsyncQueryRow(ctx, db, "SELECT count(*) FROM t WHERE a = ?", "x").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if n != 20 {
		t.Fatalf("counted %d rows, want 20", n)
	}
	if got := healthsyncKept(db); got != 2 {
		t.Fatalf("%d statements kept, want 2", got)
	}

	// A rolled-back write leaves nothing.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := healthsyncTxExec(ctx, tx, db, "INSERT INTO t (a) VALUES (?)", "x"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := healthsyncQueryRow(ctx, db, "SELECT count(*) FROM t WHERE a = ?", "x").Scan(&n); err != nil || n != 20 {
		t.Fatalf("after a rollback: %d rows (%v), want 20", n, err)
	}

	// Two result sets of one kept statement open at once (two connections).
	r1, err := healthsyncQuery(ctx, db, "SELECT a FROM t WHERE a = ?", "x")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := healthsyncQuery(ctx, db, "SELECT a FROM t WHERE a = ?", "x")
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := 0, 0
	for r1.Next() {
		c1++
		if r2.Next() {
			c2++
		}
	}
	for r2.Next() {
		c2++
	}
	_ = r1.Close()
	_ = r2.Close()
	if c1 != 20 || c2 != 20 {
		t.Fatalf("read %d and %d rows, want 20 each", c1, c2)
	}
}

func TestHealthsyncStatementSurvivesSchemaChange(t *testing.T) {
	ctx := context.Background()
	db := healthsyncOpen(t)
	if _, err := healthsyncExec(ctx, db, "CREATE TABLE t (a TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := healthsyncExec(ctx, db, "INSERT INTO t (a) VALUES (?)", "before"); err != nil {
		t.Fatal(err)
	}
	var a string
	if err := healthsyncQueryRow(ctx, db, "SELECT a FROM t").Scan(&a); err != nil || a != "before" {
		t.Fatalf("read %q (%v)", a, err)
	}

	// The table goes (a dropped collection): the kept statement fails as an unkept one would.
	if _, err := healthsyncExec(ctx, db, "DROP TABLE t"); err != nil {
		t.Fatal(err)
	}
	if err := healthsyncQueryRow(ctx, db, "SELECT a FROM t").Scan(&a); err == nil {
		t.Fatal("read a dropped table")
	}

	// And comes back with other columns and an index: SQLite recompiles the kept statement.
	if _, err := healthsyncExec(ctx, db, "CREATE TABLE t (b INTEGER, a TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := healthsyncExec(ctx, db, "CREATE INDEX t_a ON t (a)"); err != nil {
		t.Fatal(err)
	}
	if _, err := healthsyncExec(ctx, db, "INSERT INTO t (b, a) VALUES (?, ?)", 1, "after"); err != nil {
		t.Fatal(err)
	}
	if err := healthsyncQueryRow(ctx, db, "SELECT a FROM t").Scan(&a); err != nil || a != "after" {
		t.Fatalf("read %q (%v) after the table came back", a, err)
	}
}
