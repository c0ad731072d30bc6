// Package config is the platform's one Config: defaults, then an optional
// YAML file, then PUBCREDIT_* environment variables, then flags, then
// Validate. Nothing reads configuration from anywhere else.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is every setting of the platform.
type Config struct {
	DB           string        `yaml:"db"`                    // sqlite:PATH or postgres://...
	Addr         string        `yaml:"addr"`                  // API and portal listener
	AdminAddr    string        `yaml:"admin_addr"`            // metrics listener; empty disables it
	Keys         string        `yaml:"keys"`                  // keyring file; created on first start when absent
	Catalog      string        `yaml:"catalog"`               // a directory of catalog item files replacing the shipped ones; empty: shipped
	Calendars    string        `yaml:"calendars"`             // a directory of working-day calendars (YYYY.yaml) beside the shipped ones; empty: shipped only
	Timezone     string        `yaml:"timezone"`              // the city's zone: decision dates are its calendar days
	Migrate      bool          `yaml:"migrate"`               // serve migrates a stale schema instead of refusing
	MaxBody      int64         `yaml:"max_body"`              // bytes in a JSON request
	MaxBatch     int64         `yaml:"max_batch"`             // bytes in a batch upload
	MaxRows      int           `yaml:"max_rows"`              // rows in one batch
	ChunkRows    int           `yaml:"chunk_rows"`            // rows per transaction in a batch
	FineMinor    float64       `yaml:"fine_minor_max_yuan"`   // fines up to this, with nothing heavier, are minor
	FineSerious  float64       `yaml:"fine_serious_min_yuan"` // fines of this or more are serious
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	LogLevel     string        `yaml:"log_level"`
	FeedbackDays int           `yaml:"feedback_days"` // working days a department has to report what it did with a check's measures
	// LedgerOrigin names the log in its checkpoints and its verifier key
	// (C2SP tlog-checkpoint origin), e.g. credit.example.gov.cn/pubcredit.
	LedgerOrigin string `yaml:"ledger_origin"`
}

// Default returns the shipped defaults.
func Default() Config {
	return Config{
		DB:           "sqlite:./pubcredit-data/pubcredit.db",
		Addr:         "127.0.0.1:8080",
		AdminAddr:    "",
		Keys:         "",
		Timezone:     "Asia/Shanghai",
		MaxBody:      1 << 20,
		MaxBatch:     512 << 20,
		MaxRows:      5_000_000,
		ChunkRows:    2500,
		FineMinor:    200,
		FineSerious:  200000,
		ReadTimeout:  5 * time.Minute, // batch uploads are large
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		LogLevel:     "info",
		LedgerOrigin: "pubcredit.local/ledger",
		FeedbackDays: 5,
	}
}

// KeysPath is the keyring file: Keys, or keys.json beside a SQLite database,
// or ./pubcredit-data/keys.json.
func (c Config) KeysPath() string {
	if c.Keys != "" {
		return c.Keys
	}
	if p, ok := strings.CutPrefix(c.DB, "sqlite:"); ok {
		dir := "."
		if i := strings.LastIndexAny(p, `/\`); i >= 0 {
			dir = p[:i]
		}
		return dir + "/keys.json"
	}
	return "./pubcredit-data/keys.json"
}

// Location is the configured time zone.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		bad("db: %q must be sqlite:PATH or a postgres:// URL", redact(c.DB))
	}
	if c.DB == "sqlite:" {
		bad("db: sqlite: needs a file path")
	}
	if c.Addr == "" {
		bad("addr: required")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil && c.Timezone != "Asia/Shanghai" {
		bad("timezone: %v", err)
	}
	if c.MaxBody < 1024 {
		bad("max_body: %d is below 1024 bytes", c.MaxBody)
	}
	if c.MaxBatch < c.MaxBody {
		bad("max_batch: must be at least max_body")
	}
	if c.MaxRows < 1 {
		bad("max_rows: must be positive")
	}
	if c.ChunkRows < 1 || c.ChunkRows > 50000 {
		bad("chunk_rows: %d must be between 1 and 50000", c.ChunkRows)
	}
	if c.FeedbackDays < 1 || c.FeedbackDays > 60 {
		bad("feedback_days: %d must be between 1 and 60 working days", c.FeedbackDays)
	}
	if c.FineMinor < 0 || c.FineSerious <= c.FineMinor {
		bad("fine thresholds: need 0 <= fine_minor_max_yuan < fine_serious_min_yuan")
	}
	for name, d := range map[string]time.Duration{"read_timeout": c.ReadTimeout, "write_timeout": c.WriteTimeout, "idle_timeout": c.IdleTimeout} {
		if d <= 0 {
			bad("%s: must be positive", name)
		}
	}
	if c.LedgerOrigin == "" || strings.ContainsAny(c.LedgerOrigin, " +\n\t") {
		bad("ledger_origin: %q must be a name without spaces or '+'", c.LedgerOrigin)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level: %q must be debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(problems...)
}

// redact hides a password in a database URL.
func redact(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			return s[:i+3] + "…@" + s[at+1:]
		}
	}
	return s
}

// Redacted is the database setting safe for logs.
func (c Config) Redacted() string { return redact(c.DB) }

// Load builds the Config for a command: defaults, the file named by
// --config or PUBCREDIT_CONFIG, the environment, then the flags in args.
// fs must not have been parsed; Load registers the common flags on it.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	return LoadWith(fs, args, getenv, nil)
}

// LoadWith is Load with a hook that registers a command's own flags, bound
// to the Config after the file and environment are applied.
func LoadWith(fs *flag.FlagSet, args []string, getenv func(string) string, own func(c *Config)) (Config, error) {
	c := Default()
	path := getenv("PUBCREDIT_CONFIG")
	for i, a := range args { // the file comes before env and flags, so find it first
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			path = v
		} else if (a == "--config" || a == "-config") && i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := c.fromEnv(getenv); err != nil {
		return c, err
	}
	fs.String("config", path, "configuration file (YAML)")
	fs.StringVar(&c.DB, "db", c.DB, "database: sqlite:PATH or a postgres:// URL (env PUBCREDIT_DB)")
	fs.StringVar(&c.Keys, "keys", c.Keys, "keyring file, created on first start when absent (env PUBCREDIT_KEYS)")
	fs.StringVar(&c.Catalog, "catalog", c.Catalog, "directory of catalog item files replacing the shipped catalog (env PUBCREDIT_CATALOG)")
	fs.StringVar(&c.Calendars, "calendars", c.Calendars, "directory of working-day calendars (YYYY.yaml) added to the shipped ones, a year there replacing the shipped year (env PUBCREDIT_CALENDARS)")
	fs.StringVar(&c.Timezone, "timezone", c.Timezone, "the city's time zone (env PUBCREDIT_TIMEZONE)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env PUBCREDIT_LOG_LEVEL)")
	fs.StringVar(&c.LedgerOrigin, "ledger-origin", c.LedgerOrigin, "the ledger's name in checkpoints and its key (env PUBCREDIT_LEDGER_ORIGIN)")
	if own != nil {
		own(&c)
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, nil
}

// ServeFlags registers the serve-only flags on fs, bound to c.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address of the API and portal (env PUBCREDIT_ADDR)")
	fs.StringVar(&c.AdminAddr, "admin-addr", c.AdminAddr, "listen address for /metrics; empty disables (env PUBCREDIT_ADMIN_ADDR)")
	fs.BoolVar(&c.Migrate, "migrate", c.Migrate, "apply pending schema migrations at start (env PUBCREDIT_MIGRATE)")
}

func (c *Config) fromEnv(getenv func(string) string) error {
	str := map[string]*string{
		"PUBCREDIT_DB": &c.DB, "PUBCREDIT_ADDR": &c.Addr, "PUBCREDIT_ADMIN_ADDR": &c.AdminAddr,
		"PUBCREDIT_KEYS": &c.Keys, "PUBCREDIT_CATALOG": &c.Catalog, "PUBCREDIT_CALENDARS": &c.Calendars, "PUBCREDIT_TIMEZONE": &c.Timezone,
		"PUBCREDIT_LOG_LEVEL": &c.LogLevel, "PUBCREDIT_LEDGER_ORIGIN": &c.LedgerOrigin,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	var problems []error
	if v := getenv("PUBCREDIT_MIGRATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("PUBCREDIT_MIGRATE: %q is not true or false", v))
		}
		c.Migrate = b
	}
	ints := map[string]*int64{"PUBCREDIT_MAX_BODY": &c.MaxBody, "PUBCREDIT_MAX_BATCH": &c.MaxBatch}
	for k, p := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %q is not a number", k, v))
			}
			*p = n
		}
	}
	return errors.Join(problems...)
}
