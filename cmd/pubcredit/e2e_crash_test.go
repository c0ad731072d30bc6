package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashLosesNothingAcknowledged builds the real binary, kills the
// server with SIGKILL right after it acknowledged a record and a batch, and
// finds both there after a restart (SQLite, the embedded default).
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	db := "sqlite:" + filepath.Join(dir, "data", "pubcredit.db")
	keys := filepath.Join(dir, "keys.json")
	common := []string{"--db", db, "--keys", keys}

	out := runBinary(t, bin, append([]string{"dept", "add", "--code", "CRASH", "--name", "崩溃测试局", "--submit", "XZCF"}, common...)...)
	token := lastLine(out)
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add printed %q as its last line", token)
	}

	// Real time: the decision dates must not be in the future.
	who, other := newPerson(), newPerson()
	base, proc := startBinary(t, bin, common)
	body := mustJSON(t, penalty(who, "CRASH-1", "2024-03-15", nil))
	id := func() string {
		res := crashDo(t, http.MethodPost, base+"/api/v1/records", token, "application/json", body)
		if res.status != http.StatusCreated {
			t.Fatalf("POST record: %d %s", res.status, res.body)
		}
		var rec recordJSON
		if err := json.Unmarshal(res.body, &rec); err != nil || rec.ID == "" {
			t.Fatalf("POST record: %v %s", err, res.body)
		}
		return rec.ID
	}()
	batch := crashDo(t, http.MethodPost, base+"/api/v1/batches", token, "application/x-ndjson",
		append(mustJSON(t, penalty(other, "CRASH-2", "2024-03-16", nil)), '\n'))
	if batch.status != http.StatusCreated {
		t.Fatalf("POST batch: %d %s", batch.status, batch.body)
	}
	var bt batchJSON
	json.Unmarshal(batch.body, &bt)
	if err := proc.Process.Kill(); err != nil { // SIGKILL: no shutdown, no checkpoint
		t.Fatal(err)
	}
	proc.Wait()

	base, _ = startBinary(t, bin, common)
	res := crashDo(t, http.MethodGet, base+"/api/v1/records/"+id, token, "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("after kill -9 and restart, GET the acknowledged record: %d %s", res.status, res.body)
	}
	var rec recordJSON
	json.Unmarshal(res.body, &rec)
	if rec.ID != id || rec.Ref != "CRASH-1" || rec.DecidedOn != "2024-03-15" {
		t.Errorf("after restart the record is %+v", rec)
	}
	res = crashDo(t, http.MethodGet, base+"/api/v1/batches/"+bt.ID, token, "", nil)
	if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"accepted":1`)) {
		t.Errorf("after restart the acknowledged batch: %d %s", res.status, res.body)
	}
	if again := crashDo(t, http.MethodPost, base+"/api/v1/records", token, "application/json", body); again.status != http.StatusOK {
		t.Errorf("resubmitting the acknowledged record after restart: %d, want 200 (it is there)", again.status)
	}
}

// buildBinary builds cmd/pubcredit into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(dir, "pubcredit")
	cmd := exec.Command(goCmd, "build", "-o", bin, "pubcredit/cmd/pubcredit")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs a command of the binary that must succeed.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pubcredit %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// cleanEnv is the environment without PUBCREDIT_* settings of the caller.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PUBCREDIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// startBinary starts `pubcredit serve` on a free port and returns its base
// URL once it listens. The process is killed when the test ends.
func startBinary(t *testing.T, bin string, common []string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, common...)...)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "pubcredit listening on "); ok {
				addr <- strings.TrimSpace(a)
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		return a, cmd
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not print its address within a minute\nstderr:\n%s", stderr.String())
	}
	return "", nil
}

type crashResponse struct {
	status int
	body   []byte
}

func crashDo(t *testing.T, method, url, token, contentType string, body []byte) crashResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", method, url, err))
	}
	return crashResponse{status: res.StatusCode, body: b}
}
