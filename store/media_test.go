package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestMedia covers the media library and what the prompt library reads:
// a media is one company's, and cannot go while a number plays it.
func TestMedia(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")

	wav := []byte("RIFF....WAVEfmt pretend")
	m := store.Media{Name: "Menu", ContentType: "audio/mpeg", SHA256: "abc", DurationMS: 1500}
	require.NoError(t, st.CreateMedia(ctx, acme.ID, &m, wav))
	require.NotZero(t, m.ID)
	require.EqualValues(t, len(wav), m.SizeBytes)

	got, err := st.Media(ctx, acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.Name, got.Name)
	require.Equal(t, m.CreatedAt.Unix(), got.CreatedAt.Unix())
	_, data, err := st.MediaData(ctx, acme.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, wav, data)
	_, err = st.Media(ctx, globex.ID, m.ID)
	require.True(t, errors.Is(err, store.ErrNotFound), "another company's: %v", err)
	list, total, err := st.MediaList(ctx, globex.ID, store.Page{Page: 1, PerPage: 20})
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, list)

	n := dialplan.NewNumber()
	n.Name, n.Digits = "Main", "01 76 39 08 61"
	n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageMedia, MediaID: m.ID}}
	require.NoError(t, n.Normalize(acme))
	require.NoError(t, st.CreateNumber(ctx, acme.ID, &n))
	theirs := dialplan.NewNumber()
	theirs.Name, theirs.Digits = "Theirs", "01 76 39 08 62"
	require.NoError(t, theirs.Normalize(globex))
	require.NoError(t, st.CreateNumber(ctx, globex.ID, &theirs))

	c, err := st.CompanyOfNumber(ctx, n.ID)
	require.NoError(t, err)
	require.Equal(t, acme.ID, c.ID)
	require.Equal(t, "fr-FR", c.Language)
	_, err = st.CompanyOfNumber(ctx, 9999)
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)

	sum, data, err := st.MediaForNumber(ctx, n.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, "abc", sum)
	require.Equal(t, wav, data)
	_, _, err = st.MediaForNumber(ctx, theirs.ID, m.ID)
	require.True(t, errors.Is(err, store.ErrNotFound), "a number never reaches another company's media: %v", err)

	err = st.DeleteMedia(ctx, acme.ID, m.ID)
	require.True(t, errors.Is(err, store.ErrConflict), "%v", err)
	require.Contains(t, err.Error(), `welcome message of number "Main"`)
	require.True(t, errors.Is(st.DeleteMedia(ctx, globex.ID, m.ID), store.ErrNotFound))

	n.Messages = dialplan.Messages{}
	require.NoError(t, st.UpdateNumber(ctx, acme.ID, &n))
	require.NoError(t, st.DeleteMedia(ctx, acme.ID, m.ID))
	require.True(t, errors.Is(st.DeleteMedia(ctx, acme.ID, m.ID), store.ErrNotFound))
}

// The prompt library reads media and companies through the store.
var _ prompts.Directory = (*store.Store)(nil)
