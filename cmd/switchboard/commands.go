package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/esl"
	"github.com/switchboard/switchboard/internal/spool"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/metrics"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/statewatch"
	"github.com/switchboard/switchboard/store"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func newRootCommand(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	cfg, cfgErr := loadConfig(getenv)
	root := &cobra.Command{
		Use:           "switchboard",
		Short:         "Switchboard: the control plane of a self-hosted business phone system",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return cfgErr
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	cfg.flags(root.PersistentFlags())
	logger := func() *slog.Logger {
		level, _ := cfg.level()
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	}

	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "switchboard %s (%s)\n", version, runtime.Version())
			return nil
		},
	})

	root.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (safe to run again)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := store.Migrate(cmd.Context(), st.DB().DB); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "database schema is up to date")
			return nil
		},
	})

	root.AddCommand(newBootstrapCommand(&cfg, stdout))

	root.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := store.CheckSchema(cmd.Context(), st.DB().DB); err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, st, logger())
		},
	})

	root.AddCommand(newDevCommand(&cfg, stdout, logger))
	return root
}

func openStore(ctx context.Context, cfg config) (*store.Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.DatabaseURL)
}

type bootstrapFlags struct {
	company, email, first, last, timeZone, language, country string
}

func newBootstrapCommand(cfg *config, stdout io.Writer) *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap --company NAME --admin-email EMAIL",
		Short: "Create a company, its first admin (an owner) and an API key",
		Long: "Create a company, its first admin (an owner) and an API key, and print the key as\n" +
			"api_id=<id> api_token=<token>. Nothing is created if the email is already used.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			creds, err := bootstrap(cmd.Context(), st, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "api_id=%s api_token=%s\n", creds.APIID, creds.APIToken)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.company, "company", "", "company name (required)")
	fs.StringVar(&f.email, "admin-email", "", "email of the first admin (required)")
	fs.StringVar(&f.first, "admin-first-name", "Admin", "first name of the admin")
	fs.StringVar(&f.last, "admin-last-name", "", "last name of the admin")
	fs.StringVar(&f.timeZone, "time-zone", "UTC", "the company's default IANA time zone")
	fs.StringVar(&f.language, "language", "en-US", "the company's default language")
	fs.StringVar(&f.country, "country", "US", "the company's country (ISO 3166), for national phone numbers")
	cmd.MarkFlagRequired("company")
	cmd.MarkFlagRequired("admin-email")
	return cmd
}

func bootstrap(ctx context.Context, st *store.Store, f bootstrapFlags) (store.Credentials, error) {
	company := dialplan.Company{Name: f.company, TimeZone: f.timeZone, Language: f.language, Country: f.country, SLASeconds: 20}
	if err := company.Normalize(); err != nil {
		return store.Credentials{}, fmt.Errorf("bootstrap: %w", err)
	}
	admin := dialplan.User{FirstName: f.first, LastName: f.last, Email: f.email, Role: dialplan.RoleAdmin, Owner: true}
	if err := admin.Normalize(company); err != nil {
		return store.Credentials{}, fmt.Errorf("bootstrap: admin %w", err)
	}
	creds, err := st.Bootstrap(ctx, &company, &admin)
	if errors.Is(err, store.ErrConflict) {
		return creds, fmt.Errorf("bootstrap: %s already has a user; nothing was created", admin.Email)
	}
	if err != nil {
		return creds, fmt.Errorf("bootstrap: %w", err)
	}
	return creds, nil
}

// newPromptLibrary makes the prompt library cfg describes.
func newPromptLibrary(cfg config, st *store.Store, logger *slog.Logger) (*prompts.Library, error) {
	dir, baseURL := cfg.prompts()
	library, err := prompts.New(prompts.Options{Dir: dir, BaseURL: baseURL, Directory: st, Logger: logger})
	if err != nil {
		return nil, err
	}
	how := "by path"
	if baseURL != "" {
		how = "by URL " + baseURL + prompts.URLPrefix + "…"
	}
	logger.Info("prompts", "dir", library.Dir(), "played", how)
	if err := library.CheckTools(); err != nil {
		logger.Warn("uploads and text-to-speech will fail until the audio tools are installed", "err", err)
	}
	return library, nil
}

// serve runs the HTTP API until ctx ends, then drains requests.
func serve(ctx context.Context, cfg config, st *store.Store, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// One distributor for the whole process: the API reads agents' live
	// status from it, and the call engine (with a media server) drives it.
	acd := dialplan.NewACD(dialplan.WallClock{})
	// One prompt library: the API converts uploads and renders speech with
	// it and serves its files; the media drivers take it as their
	// dialplan.AudioSource.
	library, err := newPromptLibrary(cfg, st, logger)
	if err != nil {
		ln.Close()
		return err
	}
	// Metrics (metrics.go): served at /metrics beside the API; each part
	// below is given its hook.
	m, metricsHandler, err := newMetrics(cfg, st, logger)
	if err != nil {
		ln.Close()
		return err
	}
	proxies, err := cfg.trustedProxies()
	if err != nil {
		ln.Close()
		return err
	}
	deps := api.Deps{Store: st, Logger: logger, ACD: acd, Prompts: library, Metrics: m.HTTP(), PublicURL: cfg.publicURL(),
		Limits: cfg.limits(), TrustedProxies: proxies}
	// A part that must stop switchboard (the media lease lost) says why.
	fatal := make(chan error, 1)
	// Calls outlive the signal to stop: they drain, then calls.stop
	// hands them over.
	calls, err := startCalls(context.WithoutCancel(ctx), cfg, st, acd, library, logger, &deps, m, func(err error) { // sets deps.MediaReady, deps.Recordings, deps.Spool
		select {
		case fatal <- err:
		default:
		}
	})
	if err != nil {
		ln.Close()
		return err
	}
	defer calls.stop()
	// Webhooks (webhooks.go): the API checks URLs with the dispatcher's
	// policy; the dispatcher shows objects as the API does.
	stopWebhooks, err := startWebhooks(ctx, cfg, st, &deps, logger, m) // sets deps.WebhookPolicy
	if err != nil {
		ln.Close()
		return err
	}
	defer stopWebhooks()
	// The changes of state no request makes (hours turning, agents'
	// availability, after-call work, phones) go to the event stream.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		statewatch.New(statewatch.Config{Store: st, ACD: acd, Logger: logger}).Run(watchCtx)
	}()
	defer func() { stopWatch(); <-watched }()
	// The live view follows the event stream; metrics read its figures
	// and hear the calls it sees end.
	stopLive := startLive(ctx, st, &deps, m, logger) // sets deps.Live
	defer stopLive()
	srv := &http.Server{
		Handler:           withMetrics(withDashboard(cfg, st, api.NewServer(deps), logger), metricsHandler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	logger.Info("switchboard serving", "addr", ln.Addr().String(), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case err := <-fatal:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	// The API keeps serving while calls drain (its /readyz says 503).
	logger.Info("switchboard stopping: taking no new call, letting calls in progress end", "drain_timeout", cfg.DrainTimeout)
	drain, cancelDrain := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	if err := calls.drain(drain); err != nil {
		logger.Info("drain timeout: the calls left are handed over to the next switchboard")
	}
	cancelDrain()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("switchboard stopping")
	return srv.Shutdown(shutdown)
}

// mediaDriver is what both media drivers (ari, esl) are.
type mediaDriver interface {
	dialplan.MediaServer
	dialplan.Recordings
	Run(ctx context.Context, calls dialplan.Calls, presence dialplan.Presence) error
	Ready(ctx context.Context) error
}

// running are the calls startCalls runs: drain takes no new call and
// waits for those in progress to end, until ctx does; stop hands those
// left over to the next switchboard and disconnects.
type running struct {
	drain func(ctx context.Context) error
	stop  func()
}

// errDraining is what /readyz says of the media link while calls drain.
var errDraining = errors.New("switchboard is shutting down: it takes no new call")

// startCalls connects the media server, when one is configured and once
// this process holds its lease, and runs the call engine on it. fatal is
// told when the lease is lost to another process.
func startCalls(ctx context.Context, cfg config, st *store.Store, acd *dialplan.ACD, audio dialplan.AudioSource,
	logger *slog.Logger, deps *api.Deps, m *metrics.Metrics, fatal func(error)) (running, error) {
	if cfg.Media == "" {
		logger.Warn("no media server configured (SWITCHBOARD_MEDIA): the API runs, calls do not")
		return running{drain: func(context.Context) error { return nil }, stop: func() {}}, nil
	}
	var driver mediaDriver
	switch cfg.Media {
	case "freeswitch":
		driver = esl.New(esl.Config{Addr: cfg.ESLAddr, Password: cfg.ESLPassword, Trunk: cfg.ESLTrunk, Profile: cfg.ESLProfile,
			Country: strings.ToUpper(cfg.Country), RecordingDir: cfg.ESLRecordings, Audio: audio, Logger: logger,
			Observe: m.MediaCommand(cfg.Media)})
	default:
		// Devices: the driver follows the state of users' phones, and of
		// no other endpoint (not the trunk's: every call's events).
		driver = ari.New(ari.Config{URL: cfg.ARIURL, User: cfg.ARIUser, Password: cfg.ARIPassword, App: cfg.ARIApp,
			Trunk: cfg.ARITrunk, Country: strings.ToUpper(cfg.Country), Audio: audio, Logger: logger, Devices: st.Devices,
			DeviceRefresh: cfg.ARIDeviceRefresh, Observe: m.MediaCommand(cfg.Media)})
	}
	// Bursts of calls read a line's configuration once a second, not once
	// a call.
	dir := dialplan.NewCachedDirectory(st, time.Second)
	// While PostgreSQL is down, calls route on the configuration as last
	// read, and their saves wait in the spool on local disk.
	dir.Outage = store.Unavailable
	callLog, closeSpool, err := openSpool(cfg, st, logger)
	if err != nil {
		return running{}, err
	}
	m.WatchSpool(callLog.Pending)
	deps.Spool = callLog.Pending
	engine := dialplan.NewEngine(dialplan.Config{Directory: dir, CallLog: callLog, Media: driver, Recordings: driver, ACD: acd, Logger: logger})
	// One switchboard drives the media server (lease.go): a standby is
	// not ready, and drives nothing until the lease is its.
	var active, draining atomic.Bool
	deps.MediaReady = func(ctx context.Context) error {
		switch {
		case draining.Load():
			return errDraining
		case !active.Load():
			return errStandingBy
		}
		return driver.Ready(ctx)
	}
	deps.Recordings = driver
	deps.Calls = engine
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l, err := acquireLease(ctx, cfg.DatabaseURL, leaseKey(cfg), logger)
		if err != nil {
			return // stopping
		}
		runCtx, stopRun := context.WithCancel(ctx)
		held := make(chan struct{})
		go func() {
			defer close(held)
			if err := l.hold(runCtx); err != nil {
				logger.Error("media lease lost", "err", err)
				stopRun()
				fatal(err)
			}
		}()
		defer func() { stopRun(); <-held }()
		// Calls a previous run left unfinished (it was killed, or this
		// process was standing by): taken over before the driver
		// connects, so that it knows their legs.
		// Every number, user and team, kept for a PostgreSQL outage.
		numbers, err := st.AllNumbers(runCtx)
		users, err2 := st.AllUsers(runCtx)
		teams, err3 := st.AllTeams(runCtx)
		if err := errors.Join(err, err2, err3); err != nil {
			logger.Warn("configuration not read ahead for a PostgreSQL outage", "err", err)
		} else {
			dir.Warm(runCtx, numbers, users, teams)
		}
		// Agents' after-call work and pending tags, as their last calls
		// left them: before the calls, which may ring them.
		if last, err := st.LastCalls(runCtx); err != nil {
			logger.Error("agents' after-call work not restored", "err", err)
		} else {
			acd.Restore(last)
		}
		if calls, err := st.CallsToSettle(runCtx); err != nil {
			logger.Error("unfinished calls not taken over", "err", err)
		} else if len(calls) > 0 {
			logger.Warn("taking over calls a previous run left unfinished", "calls", len(calls))
			engine.Resume(calls)
		}
		active.Store(true)
		// A standby reports no media link (its alert would fire): the
		// holder of the lease does, from now on.
		m.WatchMediaLink(cfg.Media, driver.Ready)
		driver.Run(runCtx, engine, acd)
	}()
	return running{
		drain: func(ctx context.Context) error {
			draining.Store(true)
			return engine.Drain(ctx)
		},
		stop: func() {
			engine.Stop()
			cancel()
			<-done
			closeSpool()
		},
	}, nil
}

// spoolReplay is how often the spool is written back while PostgreSQL
// does not answer.
const spoolReplay = time.Second

// maxSpool bounds the spool: some hours of calls' saves at a busy site.
const maxSpool = 256 << 20

// openSpool opens this process's spool (config.spoolDir) and writes back
// what it holds as soon as PostgreSQL answers, until the returned func,
// which writes back what it can once more (the calls were just handed
// over) and closes it.
func openSpool(cfg config, st *store.Store, logger *slog.Logger) (*store.SpooledLog, func(), error) {
	dir, err := filepath.Abs(cfg.spoolDir())
	if err != nil {
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	sp, err := spool.Open(dir, maxSpool)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (SWITCHBOARD_SPOOL_DIR)", err)
	}
	host, _ := os.Hostname()
	log := logger.With("part", "spool")
	callLog := store.NewSpooledLog(st, sp, host+":"+dir, log)
	if n := sp.Len(); n > 0 {
		log.Warn("call saves a previous run kept while PostgreSQL was down: writing them back", "saves", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		callLog.Run(ctx, spoolReplay)
	}()
	return callLog, func() {
		cancel()
		<-done
		last, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		callLog.Flush(last)
		if n, _ := callLog.Pending(); n > 0 {
			log.Warn("call saves left in the spool for the next run", "saves", n, "dir", dir)
		}
		sp.Close()
	}, nil
}

// startLive runs the live view (live.Hub) until the returned func is
// called; the API serves it and metrics read it.
func startLive(ctx context.Context, st *store.Store, deps *api.Deps, m *metrics.Metrics, logger *slog.Logger) func() {
	hub := live.NewHub(live.HubConfig{Store: st, Logger: logger, Observer: m})
	m.WatchLive(hub)
	deps.Live = hub
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(ctx)
	}()
	return func() { cancel(); <-done }
}
