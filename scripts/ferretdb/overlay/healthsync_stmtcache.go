// HealthSync addition to FerretDB's fsql package (scripts/ferretdb/patch.ts).
//
// FerretDB runs every SQL statement with (*sql.DB).QueryContext or (*sql.Tx).ExecContext, so
// SQLite parsed and compiled each one anew: 14 % of the server's CPU during the booking benchmark
// went to sqlite3_prepare_v2. The statements repeat (one text per collection and operation), so
// they are prepared once per database here and reused: database/sql keeps each prepared
// statement per connection, and modernc.org/sqlite (from v1.62) keeps the compiled statement
// and resets it between runs. SQLite recompiles a kept statement by itself after a schema change.
//
// Not kept: scripts of several statements and anything but SELECT, INSERT, UPDATE and DELETE, and
// queries inside a transaction (two open result sets of one kept statement on the transaction's
// single connection would share one SQLite statement). At most healthsyncMaxStmts per database.

package fsql

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/internal/util/logging"
)

const healthsyncMaxStmts = 1000

type healthsyncStmtKey struct {
	db    *sql.DB
	query string
}

var (
	healthsyncStmtsMu sync.Mutex
	healthsyncStmts   = map[healthsyncStmtKey]*sql.Stmt{}
	healthsyncCounts  = map[*sql.DB]int{}
)

// healthsyncCacheable reports whether query is one DML statement.
func healthsyncCacheable(query string) bool {
	if strings.Contains(query, ";") {
		return false
	}

	q := strings.TrimLeft(query, " \t\r\n")
	for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
		if len(q) > len(verb) && strings.EqualFold(q[:len(verb)], verb) {
			return true
		}
	}

	return false
}

// healthsyncStmt returns the kept statement for query on db, preparing it on first use; nil when
// it is not kept (the caller runs the query as FerretDB always did, and so gets its own error).
func healthsyncStmt(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	if db == nil || !healthsyncCacheable(query) {
		return nil
	}

	key := healthsyncStmtKey{db: db, query: query}

	healthsyncStmtsMu.Lock()
	stmt, found := healthsyncStmts[key]
	full := healthsyncCounts[db] >= healthsyncMaxStmts
	healthsyncStmtsMu.Unlock()

	if found || full {
		return stmt
	}

	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}

	healthsyncStmtsMu.Lock()
	defer healthsyncStmtsMu.Unlock()

	if kept, ok := healthsyncStmts[key]; ok {
		_ = stmt.Close()
		return kept
	}

	healthsyncStmts[key] = stmt
	healthsyncCounts[db]++

	return stmt
}

// healthsyncForget closes and drops the statements kept for db (before db closes).
func healthsyncForget(db *sql.DB) {
	healthsyncStmtsMu.Lock()
	defer healthsyncStmtsMu.Unlock()

	for key, stmt := range healthsyncStmts {
		if key.db == db {
			_ = stmt.Close()
			delete(healthsyncStmts, key)
		}
	}

	delete(healthsyncCounts, db)
}

func healthsyncQuery(ctx context.Context, db *sql.DB, query string, args ...any) (*sql.Rows, error) {
	if stmt := healthsyncStmt(ctx, db, query); stmt != nil {
		return stmt.QueryContext(ctx, args...)
	}

	return db.QueryContext(ctx, query, args...)
}

func healthsyncQueryRow(ctx context.Context, db *sql.DB, query string, args ...any) *sql.Row {
	if stmt := healthsyncStmt(ctx, db, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}

	return db.QueryRowContext(ctx, query, args...)
}

func healthsyncExec(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	if stmt := healthsyncStmt(ctx, db, query); stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}

	return db.ExecContext(ctx, query, args...)
}

func healthsyncTxExec(ctx context.Context, tx *sql.Tx, db *sql.DB, query string, args ...any) (sql.Result, error) {
	if stmt := healthsyncStmt(ctx, db, query); stmt != nil {
		return tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	}

	return tx.ExecContext(ctx, query, args...)
}

// healthsyncDebug logs a statement that ran, only when debug logging is on: FerretDB built the
// log record (the arguments as JSON, the SQL text formatted twice) for every statement, which
// cost 4 % of its CPU with debug logging off.
func healthsyncDebug(ctx context.Context, l *slog.Logger, query string, args []any, start time.Time, res sql.Result, err error) {
	if !l.Enabled(ctx, slog.LevelDebug) {
		return
	}

	fields := []any{slog.Any("args", args)}
	if res != nil {
		ra, _ := res.RowsAffected()
		fields = append(fields, slog.Int64("rows", ra))
	}

	fields = append(fields, slog.Duration("time", time.Since(start)), logging.Error(err))
	l.With(fields...).DebugContext(ctx, "<<< "+query)
}
