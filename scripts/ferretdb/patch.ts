import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Fixes to FerretDB 1.24.2, applied at build time: the module as the Go proxy serves it is copied
 * out of the module cache, the edits below are made, and the wrapper is built against the copy
 * through a `replace` in a generated go.mod (`go build -modfile`). (`go build -overlay` would be
 * simpler but refuses files in the module cache.)
 *
 * The SQLite backend creates each collection's unique `_id` index on the expression
 * `_ferretdb_sjson->"_id"` but reads, updates and deletes by `_id` with `_ferretdb_sjson->'$._id'`.
 * Both give the same value, but SQLite matches an index to a query by the expression's text, so it
 * never uses the index: every `findById`, `updateOne({_id})` and `deleteOne({_id})` scans the whole
 * table (`EXPLAIN QUERY PLAN` says `SCAN`; an update by `_id` took 12 ms at 5,000 documents and
 * 100 ms at 50,000). With the constant spelled as the index is, the plan is `SEARCH … USING INDEX`.
 * Indexes already on disk are the same, so existing data folders need nothing.
 */
const MODULE = 'github.com/FerretDB/FerretDB@v1.24.2';

/** The calls in FerretDB's fsql wrappers that run SQL, and what runs them instead (overlay/healthsync_stmtcache.go). */
const FSQL_CALLS: Array<{ file: string; recv: 'db' | 'tx'; call: string; run: string }> = [
  { file: 'internal/util/fsql/db.go', recv: 'db', call: 'rows, err := db.sqlDB.QueryContext(ctx, query, args...)', run: 'rows, err := healthsyncQuery(ctx, db.sqlDB, query, args...)' },
  { file: 'internal/util/fsql/db.go', recv: 'db', call: 'row := db.sqlDB.QueryRowContext(ctx, query, args...)', run: 'row := healthsyncQueryRow(ctx, db.sqlDB, query, args...)' },
  { file: 'internal/util/fsql/db.go', recv: 'db', call: 'res, err := db.sqlDB.ExecContext(ctx, query, args...)', run: 'res, err := healthsyncExec(ctx, db.sqlDB, query, args...)' },
  // Queries in a transaction stay as they were (see the overlay); its writes use the kept statements.
  { file: 'internal/util/fsql/tx.go', recv: 'tx', call: 'rows, err := tx.sqlTx.QueryContext(ctx, query, args...)', run: 'rows, err := tx.sqlTx.QueryContext(ctx, query, args...)' },
  { file: 'internal/util/fsql/tx.go', recv: 'tx', call: 'row := tx.sqlTx.QueryRowContext(ctx, query, args...)', run: 'row := tx.sqlTx.QueryRowContext(ctx, query, args...)' },
  { file: 'internal/util/fsql/tx.go', recv: 'tx', call: 'res, err := tx.sqlTx.ExecContext(ctx, query, args...)', run: 'res, err := healthsyncTxExec(ctx, tx.sqlTx, tx.db, query, args...)' },
];

/** One fsql call with the debug logging around it, as FerretDB 1.24.2 has it, and its replacement. */
function fsqlCall(file: string, recv: 'db' | 'tx', call: string, run: string): { file: string; original: string; fixed: string } {
  const result = call.split(' ')[0].replace(',', '');
  const err = result === 'row' ? 'row.Err()' : 'err';
  const rowsAffected = result === 'res' ? '\tif res != nil {\n\t\tra, _ := res.RowsAffected()\n\t\tfields = append(fields, slog.Int64("rows", ra))\n\t}\n\n' : '';
  return {
    file,
    original:
      `\tfields := []any{slog.Any("args", args)}\n\t${recv}.l.With(fields...).DebugContext(ctx, fmt.Sprintf(">>> %s", query))\n\n\t${call}\n\n` +
      `${rowsAffected}\tfields = append(fields, slog.Duration("time", time.Since(start)), logging.Error(${err}))\n\t${recv}.l.With(fields...).DebugContext(ctx, fmt.Sprintf("<<< %s", query))\n`,
    fixed: `\t${run}\n\thealthsyncDebug(ctx, ${recv}.l, query, args, start, ${result === 'res' ? 'res' : 'nil'}, ${err})\n`,
  };
}

/** Textual edits: file in the module → [original, replacement], each original found exactly once. */
const EDITS: Array<{ file: string; original: string; fixed: string }> = [
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    original: `IDColumn = DefaultColumn + "->'$._id'"`,
    fixed: `IDColumn = DefaultColumn + "->\\"_id\\""`,
  },
  // Filter pushdown (overlay/healthsync_pushdown.go): Query and Explain build their WHERE clause
  // from every top-level equality the SQLite expression indexes can serve, not only `{_id}`.
  {
    file: 'internal/backends/sqlite/collection.go',
    original: `	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			whereClause = fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}

	q += whereClause`,
    fixed: `	whereClause, args = healthsyncWhere(params.Filter)

	q += whereClause`,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    original: `	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			filterPushdown = true
			whereClause = fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}`,
    fixed: `	whereClause, args = healthsyncWhere(params.Filter)
	filterPushdown = whereClause != ""`,
  },
  // findAndModify one at a time per collection (overlay/healthsync_findandmodify.go): atomic, as
  // Agenda's job locks assume.
  {
    file: 'internal/handler/msg_findandmodify.go',
    original: `func (h *Handler) findAndModifyDocument(ctx context.Context, params *common.FindAndModifyParams) (*findAndModifyResult, error) {
`,
    fixed: `func (h *Handler) findAndModifyDocument(ctx context.Context, params *common.FindAndModifyParams) (*findAndModifyResult, error) {
	defer healthsyncLockCollection(params.DB, params.Collection)()

`,
  },
  // The embedded FerretDB never trimmed capped collections: its library entry point leaves the
  // cleanup interval at 0 ("disabled"; only the ferretdb command sets one, 1 minute), so the live
  // event stream (platform/pubsub.ts, `max` 50,000) grew without end. Same interval as the command.
  {
    file: 'ferretdb/ferretdb.go',
    original: `			CappedCleanupPercentage: 10,
`,
    fixed: `			CappedCleanupPercentage: 10,
			CappedCleanupInterval:   60_000_000_000, // one minute, the ferretdb command's default
`,
  },
  // A faster document decoder (overlay/healthsync_sjson.go): the stock Unmarshal stays as its
  // fallback under another name.
  {
    file: 'internal/handler/sjson/sjson.go',
    original: `func Unmarshal(data []byte) (*types.Document, error) {`,
    fixed: `func healthsyncUnmarshalStock(data []byte) (*types.Document, error) {`,
  },
  // And a faster encoder (overlay/healthsync_sjson_marshal.go), same bytes; the stock one is its fallback.
  {
    file: 'internal/handler/sjson/sjson.go',
    original: `func Marshal(d *types.Document) ([]byte, error) {`,
    fixed: `func healthsyncMarshalStock(d *types.Document) ([]byte, error) {`,
  },
  // Leak tracking of iterators and cursors: outside FerretDB's debug builds nothing reads it, but
  // every Track recorded a stack in a pprof profile and set a finalizer (9 % of the server's CPU
  // while serving the 50-doctor day view). Track and Untrack now work only in debug builds, as the
  // stack capture already did.
  ...['Track', 'Untrack'].map((fn) => {
    const head = `func ${fn}(obj any, token *Token) {
	checkArgs(obj, token)
`;
    return { file: 'internal/util/resource/resource.go', original: head, fixed: `${head}
	if !debugbuild.Enabled {
		return
	}
` };
  }),
  // Statements prepared once per database and kept (overlay/healthsync_stmtcache.go), and the
  // debug log record of each statement built only when debug logging is on.
  ...FSQL_CALLS.map(({ file, recv, call, run }) => fsqlCall(file, recv, call, run)),
  {
    file: 'internal/util/fsql/db.go',
    original: `func (db *DB) Close() error {
	resource.Untrack(db, db.token)
`,
    fixed: `func (db *DB) Close() error {
	resource.Untrack(db, db.token)
	healthsyncForget(db.sqlDB)
`,
  },
  {
    file: 'internal/util/fsql/db.go',
    original: `	tx := wrapTx(sqlTx, db.l)
`,
    fixed: `	tx := wrapTx(sqlTx, db.l)
	tx.db = db.sqlDB
`,
  },
  {
    file: 'internal/util/fsql/tx.go',
    original: `	sqlTx *sql.Tx
`,
    fixed: `	sqlTx *sql.Tx
	db    *sql.DB // its database's kept statements
`,
  },
  // What the edits above leave unused.
  ...['db.go', 'tx.go'].map((f) => ({ file: `internal/util/fsql/${f}`, original: `	"database/sql"
	"fmt"
`, fixed: `	"database/sql"
` })),
  {
    file: 'internal/util/fsql/tx.go',
    original: `	"github.com/FerretDB/FerretDB/internal/util/logging"
`,
    fixed: ``,
  },
];

/** Files added to FerretDB's packages (scripts/ferretdb/overlay/<name> → <package dir>/<name>). */
const OVERLAYS: Record<string, string> = {
  'healthsync_pushdown.go': 'internal/backends/sqlite',
  'healthsync_findandmodify.go': 'internal/handler',
  'healthsync_sjson.go': 'internal/handler/sjson',
  'healthsync_sjson_marshal.go': 'internal/handler/sjson',
  // Its test, run by hand: cd .tools/ferretdb-patched/FerretDB && go test ./internal/handler/sjson/
  'healthsync_sjson_test.go': 'internal/handler/sjson',
  'healthsync_stmtcache.go': 'internal/util/fsql',
  // Its test, run by hand against the upgraded SQLite driver: cd scripts/ferretdb && go test -modfile=../../.tools/ferretdb-patched/go.mod github.com/FerretDB/FerretDB/internal/util/fsql -run Healthsync
  'healthsync_stmtcache_test.go': 'internal/util/fsql',
};
export const OVERLAY_FILES = Object.keys(OVERLAYS);

/**
 * Prepares the patched FerretDB in `outDir` and returns the go.mod to build `goModuleDir` (the
 * wrapper, scripts/ferretdb) with: `go build -modfile=<returned path>`.
 */
export function preparePatchedFerretDb(goModuleDir: string, outDir: string): string {
  const dl = spawnSync('go', ['mod', 'download', '-json', MODULE], { cwd: goModuleDir, encoding: 'utf8' });
  if (dl.status !== 0) throw new Error(`go mod download ${MODULE} failed:\n${dl.stdout}${dl.stderr}`);
  const moduleDir = (JSON.parse(dl.stdout) as { Dir: string }).Dir;
  const copy = path.join(outDir, 'FerretDB');
  rmSync(outDir, { recursive: true, force: true });
  cpSync(moduleDir, copy, { recursive: true });
  // The module cache is read-only; the copy must be writable (and removable on the next build).
  chmodTree(copy);
  for (const { file, original, fixed } of EDITS) {
    const target = path.join(copy, file);
    const source = readFileSync(target, 'utf8');
    if (source.split(original).length !== 2) throw new Error(`${MODULE} ${file} no longer contains this text once; review scripts/ferretdb/patch.ts:\n${original}`);
    writeFileSync(target, source.replace(original, fixed));
  }
  for (const [name, target] of Object.entries(OVERLAYS)) cpSync(path.join(goModuleDir, 'overlay', name), path.join(copy, target, name));
  const goMod = readFileSync(path.join(goModuleDir, 'go.mod'), 'utf8');
  const modfile = path.join(outDir, 'go.mod');
  writeFileSync(modfile, `${goMod}\nreplace github.com/FerretDB/FerretDB v1.24.2 => ${JSON.stringify(copy)}\n`);
  cpSync(path.join(goModuleDir, 'go.sum'), path.join(outDir, 'go.sum'));
  return modfile;
}

function chmodTree(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chmodTree(p);
    else chmodSync(p, 0o644);
  }
}
