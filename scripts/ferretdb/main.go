// Command healthsync-ferretdb runs FerretDB 1.24 (MongoDB wire protocol, SQLite backend) for
// development and tests on machines where no MongoDB binary can be had.
//
// Why a wrapper and not `go install github.com/FerretDB/FerretDB/cmd/ferretdb`: the module as
// served by the Go proxy lacks build/version/version.txt (a generated, git-ignored file), and the
// stock command panics at start-up when it is missing. The embeddable package has no such check.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with -pprof-addr
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"healthsync.local/ferretdb/walsync"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	dir := flag.String("data-dir", "", "directory for the SQLite files (one per database)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	pprofAddr := flag.String("pprof-addr", "", "serve Go's profiler on this address (e.g. 127.0.0.1:6060), for benchmarks")
	syncEvery := flag.Duration("sync-every", 100*time.Millisecond, "make committed writes durable on disk this often (group commit, see walsync); 0: at every commit (SQLite synchronous=FULL)")
	flag.Parse()

	if *pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintf(os.Stderr, "healthsync-ferretdb: pprof: %v\n", err)
			}
		}()
	}

	if *dir == "" {
		fmt.Fprintln(os.Stderr, "healthsync-ferretdb: -data-dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "healthsync-ferretdb: %v\n", err)
		os.Exit(1)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// SQLite's synchronous=NORMAL in WAL mode: a commit survives any crash of this process; the
	// Syncer below makes it survive a power loss too within -sync-every. FULL: each commit waits
	// for its own fsync (about twice the cost per write on this kind of machine, see README).
	synchronous := "full"
	if *syncEvery > 0 {
		synchronous = "normal"
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/?_pragma=synchronous(" + synchronous + ")",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthsync-ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A parent that sets HEALTHSYNC_EXIT_WITH_PARENT=1 gives us a stdin pipe it never writes to:
	// its end means the parent is gone (also killed with SIGKILL), and we stop as on SIGTERM.
	if os.Getenv("HEALTHSYNC_EXIT_WITH_PARENT") == "1" {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	synced := make(chan struct{})
	if *syncEvery > 0 {
		go func() {
			walsync.New(*dir).Run(ctx, *syncEvery, logger)
			close(synced)
		}()
	} else {
		close(synced)
	}

	fmt.Printf("listening %s\n", f.MongoDBURI())
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "healthsync-ferretdb: %v\n", err)
		os.Exit(1)
	}
	<-synced
}
