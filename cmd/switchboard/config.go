package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/caarlos0/env/v11"
	"github.com/spf13/pflag"
)

// config is every setting of switchboard: defaults, then environment,
// then flags, then validate().
type config struct {
	DatabaseURL string `env:"SWITCHBOARD_DATABASE_URL"`
	HTTPAddr    string `env:"SWITCHBOARD_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	LogLevel    string `env:"SWITCHBOARD_LOG_LEVEL" envDefault:"info"`
}

// envKeys are the variables config reads; env.Parse is given only these,
// looked up through getenv, so that tests control the environment.
var envKeys = []string{"SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_HTTP_ADDR", "SWITCHBOARD_LOG_LEVEL"}

func loadConfig(getenv func(string) string) (config, error) {
	vars := map[string]string{}
	for _, k := range envKeys {
		if v := getenv(k); v != "" {
			vars[k] = v
		}
	}
	var c config
	if err := env.ParseWithOptions(&c, env.Options{Environment: vars}); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

func (c *config) flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (libpq form) [SWITCHBOARD_DATABASE_URL]")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address the HTTP API listens on [SWITCHBOARD_HTTP_ADDR]")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error [SWITCHBOARD_LOG_LEVEL]")
}

func (c config) validate() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("no database: set SWITCHBOARD_DATABASE_URL (or --database-url) to a PostgreSQL URL such as postgres://user:pass@localhost/switchboard")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	return nil
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
