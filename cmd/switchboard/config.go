package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/spf13/pflag"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/phone"
	"github.com/switchboard/switchboard/webhook"
)

// config is every setting of switchboard: defaults, then environment,
// then flags, then validate().
type config struct {
	DatabaseURL string `env:"SWITCHBOARD_DATABASE_URL"`
	HTTPAddr    string `env:"SWITCHBOARD_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	LogLevel    string `env:"SWITCHBOARD_LOG_LEVEL" envDefault:"info"`
	// PromptsDir keeps the prompt files (converted uploads, rendered
	// speech, built-in prompts). When set and PromptsURL is not, the media
	// server plays them from there, by path: it must read that directory.
	PromptsDir string `env:"SWITCHBOARD_PROMPTS_DIR"`
	// PromptsURL is where the media server reaches this HTTP server; the
	// media server then fetches prompts at PromptsURL/media/prompts/….
	PromptsURL string `env:"SWITCHBOARD_PROMPTS_URL"`
	// PublicURL is where clients reach the API (behind a proxy, its
	// address there): the links the API and webhooks give are absolute
	// URLs under it. By default this HTTP server's own address.
	PublicURL string `env:"SWITCHBOARD_PUBLIC_URL"`
	// SMTPURL is the mail server of the dashboard's invitations and
	// password resets (web.go); empty: they are written to the log.
	SMTPURL string `env:"SWITCHBOARD_SMTP_URL"`

	// Media is the media server that runs calls: asterisk, freeswitch, or
	// empty for none (the API only).
	Media string `env:"SWITCHBOARD_MEDIA"`
	// Country reads national numbers from the media server (the number
	// dialled, the caller's number) into E.164.
	Country     string `env:"SWITCHBOARD_COUNTRY" envDefault:"US"`
	ARIURL      string `env:"SWITCHBOARD_ARI_URL" envDefault:"http://127.0.0.1:8088"`
	ARIUser     string `env:"SWITCHBOARD_ARI_USER" envDefault:"switchboard"`
	ARIPassword string `env:"SWITCHBOARD_ARI_PASSWORD"`
	ARIApp      string `env:"SWITCHBOARD_ARI_APP" envDefault:"switchboard"`
	// ARITrunk turns an external number into an Asterisk dial string.
	ARITrunk string `env:"SWITCHBOARD_ARI_TRUNK" envDefault:"PJSIP/%s@trunk"`
	// ARIDeviceRefresh is how soon a desk phone added through the API gets
	// presence (connected, disconnected) on Asterisk.
	ARIDeviceRefresh time.Duration `env:"SWITCHBOARD_ARI_DEVICE_REFRESH" envDefault:"15s"`
	// ESLAddr is FreeSWITCH's inbound event socket (event_socket.conf.xml).
	ESLAddr     string `env:"SWITCHBOARD_ESL_ADDR" envDefault:"127.0.0.1:8021"`
	ESLPassword string `env:"SWITCHBOARD_ESL_PASSWORD"`
	// ESLTrunk turns an external number into a FreeSWITCH dial string.
	ESLTrunk string `env:"SWITCHBOARD_ESL_TRUNK" envDefault:"sofia/gateway/trunk/%s"`
	// ESLProfile is the sofia profile users' phones register on.
	ESLProfile string `env:"SWITCHBOARD_ESL_PROFILE" envDefault:"internal"`
	// ESLRecordings is where FreeSWITCH writes recordings, on its host.
	ESLRecordings string `env:"SWITCHBOARD_ESL_RECORDINGS" envDefault:"/var/lib/freeswitch/recordings"`

	// Webhooks: where they may post beyond public https URLs (a receiver
	// on the operator's network), and how long delivered deliveries are
	// kept (webhook.Policy, webhook.Config.Retention).
	WebhookAllowHTTP bool          `env:"SWITCHBOARD_WEBHOOK_ALLOW_HTTP"`
	WebhookAllowNets string        `env:"SWITCHBOARD_WEBHOOK_ALLOW_NETS"`
	WebhookRetention time.Duration `env:"SWITCHBOARD_WEBHOOK_RETENTION" envDefault:"168h"`

	// Metrics: how many numbers and companies /metrics names by their id
	// in labels (metrics.Options); the others are "other".
	MetricsMaxNumbers   int `env:"SWITCHBOARD_METRICS_MAX_NUMBERS" envDefault:"100"`
	MetricsMaxCompanies int `env:"SWITCHBOARD_METRICS_MAX_COMPANIES" envDefault:"100"`

	// Limits: requests a minute per API key and per client address, and
	// requests with wrong credentials per address (api.Limits; 0: none);
	// the reverse proxies whose X-Forwarded-For names the client.
	RateLimitKey     int    `env:"SWITCHBOARD_RATE_LIMIT_KEY" envDefault:"3000"`
	RateLimitAddress int    `env:"SWITCHBOARD_RATE_LIMIT_ADDRESS" envDefault:"6000"`
	FailedAuthLimit  int    `env:"SWITCHBOARD_FAILED_AUTH_LIMIT" envDefault:"30"`
	TrustedProxies   string `env:"SWITCHBOARD_TRUSTED_PROXIES"`

	// DrainTimeout is how long a stopping switchboard (SIGTERM) lets the
	// calls in progress end, taking no new one, before it hands those
	// left over to the next switchboard (0: at once).
	DrainTimeout time.Duration `env:"SWITCHBOARD_DRAIN_TIMEOUT" envDefault:"30s"`

	// SpoolDir keeps the call saves PostgreSQL cannot take while it is
	// down, until it takes them (store.SpooledLog); one per process.
	SpoolDir string `env:"SWITCHBOARD_SPOOL_DIR"`

	// promptsCache is the directory of prompt files when PromptsDir is
	// unset (dev sets it inside its data directory).
	promptsCache string
}

// envKeys are the variables config reads; env.Parse is given only these,
// looked up through getenv, so that tests control the environment.
var envKeys = []string{"SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_HTTP_ADDR", "SWITCHBOARD_LOG_LEVEL",
	"SWITCHBOARD_PROMPTS_DIR", "SWITCHBOARD_PROMPTS_URL", "SWITCHBOARD_PUBLIC_URL", "SWITCHBOARD_MEDIA", "SWITCHBOARD_COUNTRY",
	"SWITCHBOARD_ARI_URL", "SWITCHBOARD_ARI_USER", "SWITCHBOARD_ARI_PASSWORD", "SWITCHBOARD_ARI_APP", "SWITCHBOARD_ARI_TRUNK",
	"SWITCHBOARD_ARI_DEVICE_REFRESH", "SWITCHBOARD_ESL_ADDR", "SWITCHBOARD_ESL_PASSWORD", "SWITCHBOARD_ESL_TRUNK", "SWITCHBOARD_ESL_PROFILE", "SWITCHBOARD_ESL_RECORDINGS",
	"SWITCHBOARD_WEBHOOK_ALLOW_HTTP", "SWITCHBOARD_WEBHOOK_ALLOW_NETS", "SWITCHBOARD_WEBHOOK_RETENTION",
	"SWITCHBOARD_METRICS_MAX_NUMBERS", "SWITCHBOARD_METRICS_MAX_COMPANIES",
	"SWITCHBOARD_RATE_LIMIT_KEY", "SWITCHBOARD_RATE_LIMIT_ADDRESS", "SWITCHBOARD_FAILED_AUTH_LIMIT", "SWITCHBOARD_TRUSTED_PROXIES",
	"SWITCHBOARD_DRAIN_TIMEOUT", "SWITCHBOARD_SMTP_URL", "SWITCHBOARD_SPOOL_DIR"}

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
	fs.StringVar(&c.PromptsDir, "prompts-dir", c.PromptsDir,
		"directory of prompt files, which the media server reads by path unless --prompts-url is set [SWITCHBOARD_PROMPTS_DIR]")
	fs.StringVar(&c.Media, "media", c.Media, "media server: asterisk, freeswitch, or empty for the API only [SWITCHBOARD_MEDIA]")
	fs.StringVar(&c.Country, "country", c.Country, "country of national numbers the media server gives (ISO 3166) [SWITCHBOARD_COUNTRY]")
	fs.StringVar(&c.ARIURL, "ari-url", c.ARIURL, "Asterisk's HTTP server (ARI under /ari) [SWITCHBOARD_ARI_URL]")
	fs.StringVar(&c.ARIUser, "ari-user", c.ARIUser, "ARI user (ari.conf) [SWITCHBOARD_ARI_USER]")
	fs.StringVar(&c.ARIApp, "ari-app", c.ARIApp, "Stasis application of the dialplan [SWITCHBOARD_ARI_APP]")
	fs.StringVar(&c.ARITrunk, "ari-trunk", c.ARITrunk, "dial string of external numbers, %s is the number [SWITCHBOARD_ARI_TRUNK]")
	fs.DurationVar(&c.ARIDeviceRefresh, "ari-device-refresh", c.ARIDeviceRefresh,
		"how often desk phones are read again for their presence on Asterisk [SWITCHBOARD_ARI_DEVICE_REFRESH]")
	fs.StringVar(&c.ESLAddr, "esl-addr", c.ESLAddr, "FreeSWITCH's inbound event socket, host:port [SWITCHBOARD_ESL_ADDR]")
	fs.StringVar(&c.ESLTrunk, "esl-trunk", c.ESLTrunk, "FreeSWITCH dial string of external numbers, %s is the number [SWITCHBOARD_ESL_TRUNK]")
	fs.StringVar(&c.ESLProfile, "esl-profile", c.ESLProfile, "sofia profile the phones register on [SWITCHBOARD_ESL_PROFILE]")
	fs.StringVar(&c.ESLRecordings, "esl-recordings", c.ESLRecordings, "directory where FreeSWITCH writes recordings, on its host [SWITCHBOARD_ESL_RECORDINGS]")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL,
		"URL at which clients reach the API, such as https://pbx.example.com: its links are absolute URLs under it [SWITCHBOARD_PUBLIC_URL]")
	fs.StringVar(&c.PromptsURL, "prompts-url", c.PromptsURL,
		"base URL at which the media server reaches this HTTP server, to fetch prompts by URL [SWITCHBOARD_PROMPTS_URL]")
	fs.BoolVar(&c.WebhookAllowHTTP, "webhook-allow-http", c.WebhookAllowHTTP,
		"let webhooks post to http:// URLs, not only https:// [SWITCHBOARD_WEBHOOK_ALLOW_HTTP]")
	fs.StringVar(&c.WebhookAllowNets, "webhook-allow-nets", c.WebhookAllowNets,
		"private address ranges webhooks may post to, comma-separated CIDRs such as 10.0.0.0/8 [SWITCHBOARD_WEBHOOK_ALLOW_NETS]")
	fs.DurationVar(&c.WebhookRetention, "webhook-retention", c.WebhookRetention,
		"how long delivered webhook deliveries are kept [SWITCHBOARD_WEBHOOK_RETENTION]")
	fs.IntVar(&c.MetricsMaxNumbers, "metrics-max-numbers", c.MetricsMaxNumbers,
		"numbers /metrics names by id; the others are \"other\" [SWITCHBOARD_METRICS_MAX_NUMBERS]")
	fs.IntVar(&c.MetricsMaxCompanies, "metrics-max-companies", c.MetricsMaxCompanies,
		"companies /metrics names by id; the others are \"other\" [SWITCHBOARD_METRICS_MAX_COMPANIES]")
	fs.IntVar(&c.RateLimitKey, "rate-limit-key", c.RateLimitKey,
		"requests an API key may make a minute, 0 for no limit [SWITCHBOARD_RATE_LIMIT_KEY]")
	fs.IntVar(&c.RateLimitAddress, "rate-limit-address", c.RateLimitAddress,
		"requests one client address may make a minute, 0 for no limit [SWITCHBOARD_RATE_LIMIT_ADDRESS]")
	fs.IntVar(&c.FailedAuthLimit, "failed-auth-limit", c.FailedAuthLimit,
		"requests with wrong credentials one address may make a minute before it is refused until the minute ends, "+
			"0 for no limit [SWITCHBOARD_FAILED_AUTH_LIMIT]")
	fs.StringVar(&c.SMTPURL, "smtp-url", c.SMTPURL,
		"mail server of the dashboard's invitations and password resets, smtp://user:pass@host:587?from=noreply@example.com; "+
			"empty: they are written to the log [SWITCHBOARD_SMTP_URL]")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies,
		"reverse proxies in front of the API, comma-separated addresses or CIDRs: their X-Forwarded-For names the "+
			"client [SWITCHBOARD_TRUSTED_PROXIES]")
	fs.StringVar(&c.SpoolDir, "spool-dir", c.SpoolDir,
		"directory of the call saves kept while PostgreSQL is down, one per process "+
			"(default: ~/.local/state/switchboard/spool-<HTTP address>) [SWITCHBOARD_SPOOL_DIR]")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout,
		"how long a stopping switchboard lets calls in progress end, taking no new one, before it hands the rest over "+
			"to the next switchboard [SWITCHBOARD_DRAIN_TIMEOUT]")
}

// limits are the API's limits as configured.
func (c config) limits() api.Limits {
	return api.Limits{PerKey: c.RateLimitKey, PerAddress: c.RateLimitAddress, FailedAuth: c.FailedAuthLimit}
}

// trustedProxies are the proxies' addresses and networks, each checked.
func (c config) trustedProxies() ([]string, error) {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		_, _, cidrErr := net.ParseCIDR(p)
		if cidrErr != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR such as 10.0.0.0/8 (SWITCHBOARD_TRUSTED_PROXIES)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func (c config) validate() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("no database: set SWITCHBOARD_DATABASE_URL (or --database-url) to a PostgreSQL URL such as postgres://user:pass@localhost/switchboard")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if err := c.checkMedia(); err != nil {
		return err
	}
	if _, err := c.webhookPolicy(); err != nil {
		return err
	}
	if c.ARIDeviceRefresh <= 0 {
		return fmt.Errorf("ARI device refresh %s: want a positive duration such as 15s (SWITCHBOARD_ARI_DEVICE_REFRESH)", c.ARIDeviceRefresh)
	}
	if c.DrainTimeout < 0 {
		return fmt.Errorf("drain timeout %s: want a duration such as 30s, or 0 to hand calls over at once (SWITCHBOARD_DRAIN_TIMEOUT)", c.DrainTimeout)
	}
	if c.WebhookRetention <= 0 {
		return fmt.Errorf("webhook retention %s: want a positive duration such as 168h (SWITCHBOARD_WEBHOOK_RETENTION)", c.WebhookRetention)
	}
	if c.MetricsMaxNumbers <= 0 || c.MetricsMaxCompanies <= 0 {
		return fmt.Errorf("metrics: at most %d numbers and %d companies named: want positive counts such as 100 "+
			"(SWITCHBOARD_METRICS_MAX_NUMBERS, SWITCHBOARD_METRICS_MAX_COMPANIES)", c.MetricsMaxNumbers, c.MetricsMaxCompanies)
	}
	if c.RateLimitKey < 0 || c.RateLimitAddress < 0 || c.FailedAuthLimit < 0 {
		return fmt.Errorf("limits: %d, %d and %d requests a minute: want counts, 0 for no limit "+
			"(SWITCHBOARD_RATE_LIMIT_KEY, SWITCHBOARD_RATE_LIMIT_ADDRESS, SWITCHBOARD_FAILED_AUTH_LIMIT)",
			c.RateLimitKey, c.RateLimitAddress, c.FailedAuthLimit)
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if err := c.checkPublicURL(); err != nil {
		return err
	}
	if err := c.checkSMTP(); err != nil {
		return err
	}
	return c.checkPromptsURL()
}

func (c config) checkPublicURL() error {
	if !isBaseURL(c.PublicURL) {
		return fmt.Errorf("public URL %q: want the URL at which clients reach the API, such as https://pbx.example.com (SWITCHBOARD_PUBLIC_URL)", c.PublicURL)
	}
	return nil
}

// isBaseURL says whether s is empty (unset) or an http(s) URL with a host
// that paths can follow: no query, no fragment.
func isBaseURL(s string) bool {
	if s == "" {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == ""
}

// publicURL is where clients reach the API: PublicURL, else this HTTP
// server's own address.
func (c config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return c.localURL()
}

// localURL is this HTTP server's address as a client on this host
// reaches it: a wildcard address is 127.0.0.1.
func (c config) localURL() string {
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		host, port = c.HTTPAddr, "80"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// webhookPolicy says where webhooks may post: the API checks a webhook's
// URL with it when saved, the dispatcher at every delivery.
func (c config) webhookPolicy() (webhook.Policy, error) {
	nets, err := webhook.ParseNets(c.WebhookAllowNets)
	if err != nil {
		return webhook.Policy{}, fmt.Errorf("%w (SWITCHBOARD_WEBHOOK_ALLOW_NETS)", err)
	}
	return webhook.Policy{AllowHTTP: c.WebhookAllowHTTP, AllowNets: nets}, nil
}

func (c config) checkMedia() error {
	if !phone.ValidCountry(strings.ToUpper(c.Country)) {
		return fmt.Errorf("country %q: use an ISO 3166 code such as FR or US (SWITCHBOARD_COUNTRY)", c.Country)
	}
	switch c.Media {
	case "":
		return nil
	case "asterisk":
		u, err := url.Parse(c.ARIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ARI URL %q: want Asterisk's HTTP server, such as http://127.0.0.1:8088 (SWITCHBOARD_ARI_URL)", c.ARIURL)
		}
		if c.ARIPassword == "" {
			return fmt.Errorf("no ARI password: set SWITCHBOARD_ARI_PASSWORD (ari.conf)")
		}
		if strings.Count(c.ARITrunk, "%s") != 1 {
			return fmt.Errorf("ARI trunk %q: want one %%s for the number, such as PJSIP/%%s@trunk (SWITCHBOARD_ARI_TRUNK)", c.ARITrunk)
		}
		return nil
	case "freeswitch":
		if _, _, err := net.SplitHostPort(c.ESLAddr); err != nil {
			return fmt.Errorf("event socket address %q: want host:port, such as 127.0.0.1:8021 (SWITCHBOARD_ESL_ADDR)", c.ESLAddr)
		}
		if c.ESLPassword == "" {
			return fmt.Errorf("no event socket password: set SWITCHBOARD_ESL_PASSWORD (event_socket.conf.xml)")
		}
		if strings.Count(c.ESLTrunk, "%s") != 1 {
			return fmt.Errorf("ESL trunk %q: want one %%s for the number, such as sofia/gateway/trunk/%%s (SWITCHBOARD_ESL_TRUNK)", c.ESLTrunk)
		}
		return nil
	}
	return fmt.Errorf("media server %q: use asterisk, freeswitch, or leave it empty (SWITCHBOARD_MEDIA)", c.Media)
}

func (c config) checkPromptsURL() error {
	if !isBaseURL(c.PromptsURL) {
		return fmt.Errorf("prompts URL %q: want the base URL at which the media server reaches this server, such as http://10.0.0.2:8080", c.PromptsURL)
	}
	return nil
}

// spoolDir is SpoolDir, or by default a directory of the user's state
// named for the HTTP address: two processes on one host never share it
// (they cannot listen on one address), and a process started again on
// its address finds what the last one kept.
func (c config) spoolDir() string {
	if c.SpoolDir != "" {
		return c.SpoolDir
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		state = filepath.Join(home, ".local", "state")
	}
	name := strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(c.HTTPAddr)
	return filepath.Join(state, "switchboard", "spool-"+name)
}

// prompts says where prompt files are kept and how the media server gets
// them: by URL when PromptsURL is set; by path when only PromptsDir is;
// with neither, by URL from this HTTP server's address (a media server on
// this host), the files in a cache directory.
func (c config) prompts() (dir, baseURL string) {
	dir, baseURL = c.PromptsDir, c.PromptsURL
	if dir == "" {
		dir = c.promptsCache
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				cache = os.TempDir()
			}
			dir = filepath.Join(cache, "switchboard", "prompts")
		}
		if baseURL == "" {
			baseURL = c.localURL()
		}
	}
	return dir, baseURL
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
