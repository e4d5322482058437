package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store/storetest"
	"github.com/switchboard/switchboard/webhook"
)

// TestServeDeliversWebhooks: serve runs the dispatcher with the
// configured policy and the API's rendering: a user created through the
// API reaches a webhook created through the API, signed.
func TestServeDeliversWebhooks(t *testing.T) {
	t.Parallel()
	dbURL := storetest.URL(t)
	stdout, _, err := runCmd(t, dbEnv(dbURL), "bootstrap", "--company", "Acme", "--admin-email", "a@example.com")
	require.NoError(t, err)
	creds := credentialsLine.FindStringSubmatch(stdout)
	require.NotNil(t, creds, "bootstrap printed %q", stdout)

	type received struct {
		body      []byte
		signature string
	}
	var (
		mu  sync.Mutex
		got []received
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{body, r.Header.Get("X-Switchboard-Signature")})
		mu.Unlock()
	}))
	defer rc.Close()

	addr := freeAddr(t)
	env := map[string]string{"SWITCHBOARD_DATABASE_URL": dbURL, "SWITCHBOARD_HTTP_ADDR": addr,
		"SWITCHBOARD_PROMPTS_DIR": t.TempDir(), "SWITCHBOARD_WEBHOOK_ALLOW_HTTP": "true",
		"SWITCHBOARD_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv(env), io.Discard, &errOut) }()

	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	require.Eventually(t, func() bool {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "serve did not answer; stderr:\n%s", &errOut)
	post := func(path, body string) []byte {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth(creds[1], creds[2])
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out bytes.Buffer
		_, err = out.ReadFrom(resp.Body)
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", path, body, out.String())
		return out.Bytes()
	}
	var hook struct {
		Webhook struct {
			Token string `json:"token"`
		} `json:"webhook"`
	}
	require.NoError(t, json.Unmarshal(post("/v1/webhooks", `{"url": "`+rc.URL+`/hook", "events": ["user.created"]}`), &hook))
	require.NotEmpty(t, hook.Webhook.Token)
	post("/v1/users", `{"first_name": "Alice", "email": "alice@example.com", "role": "agent"}`)

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}, 30*time.Second, 10*time.Millisecond, "no webhook; stderr:\n%s", &errOut)
	mu.Lock()
	r := got[0]
	mu.Unlock()
	var env2 struct {
		Resource string `json:"resource"`
		Event    string `json:"event"`
		Token    string `json:"token"`
		Data     struct {
			Email string `json:"email"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.body, &env2), "%s", r.body)
	require.Equal(t, "user", env2.Resource)
	require.Equal(t, "user.created", env2.Event)
	require.Equal(t, hook.Webhook.Token, env2.Token)
	require.Equal(t, "alice@example.com", env2.Data.Email, "the user as the API shows it")
	_, err = webhook.Verify(hook.Webhook.Token, r.signature, r.body)
	require.NoError(t, err)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.Contains(t, errOut.String(), "webhook dispatcher active")
}

func TestWebhookConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"bad network", map[string]string{"SWITCHBOARD_WEBHOOK_ALLOW_NETS": "10.0.0.0"}, `"10.0.0.0"`},
		{"bad retention", map[string]string{"SWITCHBOARD_WEBHOOK_RETENTION": "-1h"}, "webhook retention -1h0m0s"},
		{"unparsable retention", map[string]string{"SWITCHBOARD_WEBHOOK_RETENTION": "a week"}, `invalid duration "a week"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["SWITCHBOARD_DATABASE_URL"] = unreachableURL
			_, _, err := runCmd(t, tt.env, "serve")
			require.ErrorContains(t, err, tt.err)
		})
	}

	cfg, err := loadConfig(getenv(map[string]string{"SWITCHBOARD_WEBHOOK_ALLOW_HTTP": "true",
		"SWITCHBOARD_WEBHOOK_ALLOW_NETS": "10.1.0.0/16, 192.168.1.7/24"}))
	require.NoError(t, err)
	p, err := cfg.webhookPolicy()
	require.NoError(t, err)
	require.True(t, p.AllowHTTP)
	require.Len(t, p.AllowNets, 2)
	require.Equal(t, "192.168.1.0/24", p.AllowNets[1].String())
	require.Equal(t, 7*24*time.Hour, cfg.WebhookRetention)
}
