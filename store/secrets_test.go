package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestSecret: a secret is made once, then every store on the database
// (every process) reads the same, even when they all ask first at once.
func TestSecret(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t)
	stores := make([]*store.Store, 8)
	for i := range stores {
		st, err := store.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}

	got, errs := make([][]byte, len(stores)), make([]error, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { got[i], errs[i] = st.Secret(ctx, store.SecretURLSigning, 32) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, got[0], 32)
	require.NotEqual(t, make([]byte, 32), got[0], "random")
	for _, key := range got[1:] {
		require.Equal(t, got[0], key, "one secret for every process")
	}

	again, err := stores[0].Secret(ctx, store.SecretURLSigning, 32)
	require.NoError(t, err)
	require.Equal(t, got[0], again, "kept")

	other, err := stores[0].Secret(ctx, "other", 32)
	require.NoError(t, err)
	require.NotEqual(t, got[0], other, "each name its own")

	_, err = stores[0].Secret(ctx, store.SecretURLSigning, 16)
	require.ErrorContains(t, err, "32 bytes in the database, want 16")
}
