package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/pglocal"
	"github.com/switchboard/switchboard/store"
)

// newDevCommand runs Switchboard on a private PostgreSQL kept in a local
// directory: what `make run` uses when no database is configured.
func newDevCommand(cfg *config, stdout io.Writer, logger func() *slog.Logger) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run on a local PostgreSQL in --data (started, migrated and given a demo company on first use)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := cfg.level(); err != nil {
				return err
			}
			return runDev(cmd.Context(), *cfg, dir, stdout, logger())
		},
	}
	cmd.Flags().StringVar(&dir, "data", ".data", "directory of the local database and demo credentials")
	return cmd
}

const devDatabase = "switchboard"

func runDev(ctx context.Context, cfg config, dir string, stdout io.Writer, logger *slog.Logger) error {
	pg, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Logger: logger})
	if err != nil {
		return err
	}
	defer pg.Stop()
	if err := createDatabase(ctx, pg.URL("postgres"), devDatabase); err != nil {
		return err
	}
	cfg.DatabaseURL = pg.URL(devDatabase)
	cfg.promptsCache = filepath.Join(dir, "prompts")
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(dir, "spool")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := store.Migrate(ctx, st.DB().DB); err != nil {
		return err
	}
	creds, err := demoCredentials(ctx, st, filepath.Join(dir, "demo-credentials"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Switchboard is running on http://%[1]s with a local database in %[2]s.
Demo company API key (the admin is admin@example.com, an owner):
  %[3]s
Try:
  curl -u %[4]s http://%[1]s/v1/company

`, cfg.HTTPAddr, dir, creds, strings.Replace(strings.TrimPrefix(strings.TrimSpace(creds), "api_id="), " api_token=", ":", 1))
	if err := printDashboard(ctx, st, cfg, "admin@example.com", stdout); err != nil {
		return err
	}
	return serve(ctx, cfg, st, logger)
}

// createDatabase makes dbname on first use.
func createDatabase(ctx context.Context, url, dbname string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	var found bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbname).Scan(&found); err != nil {
		return fmt.Errorf("local database: %w", err)
	}
	if found {
		return nil
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+dbname); err != nil {
		return fmt.Errorf("local database: %w", err)
	}
	return nil
}

// demoCredentials bootstraps the demo company the first time and keeps its
// key in a file (this is a developer's machine: the token must be shown
// again on the next run, and the database only keeps its hash).
func demoCredentials(ctx context.Context, st *store.Store, path string) (string, error) {
	saved, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(saved)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	creds, err := bootstrap(ctx, st, bootstrapFlags{company: "Demo Company", email: "admin@example.com",
		first: "Ada", last: "Admin", timeZone: "Europe/Paris", language: "fr-FR", country: "FR"})
	if err != nil {
		return "", err
	}
	line := fmt.Sprintf("api_id=%s api_token=%s", creds.APIID, creds.APIToken)
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save demo credentials: %w", err)
	}
	return line, nil
}
