// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// URL(t) creates a uniquely named database on a server and drops it when
// the test ends. The server is, in order of preference:
//
//   - the one named by the environment variable PUBCREDIT_TEST_PG, a server
//     URL such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//     (scripts/test.sh starts one for the whole run and sets it);
//   - else a throwaway server this test process starts once, from the
//     highest version under /usr/lib/postgresql/*/bin (or initdb on PATH):
//     initdb into a temporary directory (owned by the postgres user and run
//     through runuser when the process is root, as PostgreSQL refuses to run
//     as root), then pg_ctl start on a free loopback port with fsync off.
//
// When no server can be had, URL fails the test if the environment variable
// CI is set and skips it otherwise, saying why.
//
// A package whose tests use URL stops the throwaway server by running its
// tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Should the process die before Main returns (a test timeout, a signal), a
// watchdog that the server was started with sees the process go, stops the
// server and removes its directory.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvServer names the environment variable holding the URL of a server to
// create test databases on.
const EnvServer = "PUBCREDIT_TEST_PG"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	stopped bool
	mu      sync.Mutex // guards stopped
)

// URL returns the URL of a new, empty database for this test only, dropped
// when the test and its cleanups end.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	mu.Lock()
	done := stopped
	mu.Unlock()
	switch {
	case srvErr != nil:
		unavailable(t, srvErr)
	case done:
		t.Fatal("pgtest: URL called after Main stopped the server")
	}
	name := "pubcredit_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.exec(ctx, "CREATE DATABASE "+name); err != nil {
		unavailable(t, fmt.Errorf("creating a test database: %w", err))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
	u := *srv.url
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests of m and then stops the server the process started,
// if any, returning the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	stopped = true
	mu.Unlock()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping the test server: %v\n", err)
		}
	}
	return code
}

// unavailable ends a test that cannot have a server: a failure in CI, a
// skip elsewhere.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("pgtest: no PostgreSQL server for this test (CI is set, so this fails instead of skipping): %v", err)
	}
	t.Skipf("pgtest: skipping, no PostgreSQL server: %v (set %s to a server URL, install the PostgreSQL server binaries, or run scripts/test.sh)", err, EnvServer)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// server is where test databases are created.
type server struct {
	url *url.URL // its maintenance database

	// For a server this process started:
	dir      string    // temporary directory with the data directory, log and socket
	watchdog *exec.Cmd // stops the server and removes dir once its stdin closes
	pipe     io.Closer // the write end of the watchdog's stdin
}

func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url.String())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// stop stops a server this process started and removes its directory.
func (s *server) stop() error {
	if s.watchdog == nil {
		return nil
	}
	s.pipe.Close()
	done := make(chan error, 1)
	go func() { done <- s.watchdog.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		return errors.New("the watchdog did not stop the server within a minute")
	}
}

func start() (*server, error) {
	if env := os.Getenv(EnvServer); env != "" {
		u, err := url.Parse(env)
		if err != nil {
			return nil, fmt.Errorf("%s is not a URL: %w", EnvServer, err)
		}
		s := &server{url: u}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.exec(ctx, "SELECT 1"); err != nil {
			return nil, fmt.Errorf("the server at %s does not answer: %w", EnvServer, err)
		}
		return s, nil
	}
	return startLocal()
}

// binDir finds the directory of the newest PostgreSQL server binaries.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(p))), 64)
		return v
	}
	slices.SortFunc(found, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries: neither /usr/lib/postgresql/*/bin/initdb nor initdb on PATH")
}

// startLocal starts a throwaway server for this process.
func startLocal() (_ *server, err error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: run it as the postgres user.
	var asUser []string
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, fmt.Errorf("running as root, and runuser is missing: %w", err)
		}
		asUser = []string{runuser, "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp("", "pubcredit-pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data, logFile := filepath.Join(dir, "data"), filepath.Join(dir, "server.log")
	command := func(name string, args ...string) *exec.Cmd {
		argv := append(slices.Clone(asUser), append([]string{filepath.Join(bin, name)}, args...)...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		// Its own process group: an interrupt of the test run reaches the
		// watchdog's cleanup, not the server directly.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	run := func(name string, args ...string) error {
		out, err := command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return nil, err
	}

	var port int
	for attempt := 0; ; attempt++ {
		if port, err = freePort(); err != nil {
			return nil, err
		}
		opts := strings.Join([]string{
			"-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=" + dir,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
		}, " ")
		err = run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", logFile, "-o", opts)
		if err == nil {
			break
		}
		if log, _ := os.ReadFile(logFile); attempt == 2 {
			return nil, fmt.Errorf("%w\n%s", err, log)
		}
	}

	// The watchdog holds the only read end of a pipe whose write end only
	// this process has: when the process ends, however it ends, the pipe
	// closes, and the watchdog stops the server and removes its directory.
	stop := append(slices.Clone(asUser), filepath.Join(bin, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w", "-t", "60")
	script := `cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf "` + dir + `"`
	wd := exec.Command("/bin/sh", append([]string{"-c", script, "pgtest-watchdog"}, stop...)...)
	wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := wd.StdinPipe()
	if err != nil {
		run("pg_ctl", "stop", "-D", data, "-m", "immediate")
		return nil, err
	}
	if err := wd.Start(); err != nil {
		run("pg_ctl", "stop", "-D", data, "-m", "immediate")
		return nil, err
	}
	u := &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	return &server{url: u, dir: dir, watchdog: wd, pipe: pipe}, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
