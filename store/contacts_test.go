package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// show is how these tests show a contact in its events.
func show(c store.Contact) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"id": c.ID, "first_name": c.FirstName, "phones": len(c.PhoneNumbers)})
}

func phones(values ...string) []store.ContactDetail {
	out := make([]store.ContactDetail, len(values))
	for i, v := range values {
		out[i] = store.ContactDetail{Label: "Work", Value: v}
	}
	return out
}

func TestContactCRUD(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")

	c := store.Contact{FirstName: "John", LastName: "Doe", CompanyName: "Doe Inc", Information: "VIP",
		PhoneNumbers: phones("+33612345678", "+442079460958"),
		Emails:       []store.ContactDetail{{Label: "Office", Value: "john@doe.test"}}}
	require.NoError(t, st.CreateContact(ctx, acme.ID, &c, show))
	require.NotZero(t, c.ID)
	require.NotZero(t, c.PhoneNumbers[1].ID)
	require.NotZero(t, c.Emails[0].ID)
	require.False(t, c.CreatedAt.IsZero())

	got, err := st.Contact(ctx, acme.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.PhoneNumbers, got.PhoneNumbers, "in the order added")
	require.Equal(t, c.Emails, got.Emails)
	require.Equal(t, "Doe Inc", got.CompanyName)

	for _, tc := range []struct {
		name    string
		company dialplan.CompanyID
		err     error
	}{{"own company", acme.ID, nil}, {"another company", globex.ID, store.ErrNotFound}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.Contact(ctx, tc.company, c.ID)
			require.ErrorIs(t, err, tc.err)
			list, total, err := st.Contacts(ctx, tc.company, store.Page{Page: 1, PerPage: 20})
			require.NoError(t, err)
			if tc.err == nil {
				require.Equal(t, 1, total)
				require.Equal(t, c.ID, list[0].ID)
				require.Len(t, list[0].PhoneNumbers, 2)
			} else {
				require.Zero(t, total)
				require.Empty(t, list)
			}
		})
	}

	got.FirstName, got.Information = "Johnny", ""
	updated, err := st.UpdateContact(ctx, acme.ID, got, show)
	require.NoError(t, err)
	require.Equal(t, "Johnny", updated.FirstName)
	require.Empty(t, updated.Information)
	require.False(t, updated.UpdatedAt.Before(got.UpdatedAt))
	_, err = st.UpdateContact(ctx, globex.ID, got, show)
	require.ErrorIs(t, err, store.ErrNotFound, "another company's")

	// Details: add, change, delete, each only through its own contact.
	d := store.ContactDetail{Label: "Mobile", Value: "+33699999999"}
	withMobile, err := st.AddContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, &d, show)
	require.NoError(t, err)
	require.Len(t, withMobile.PhoneNumbers, 3)
	require.Equal(t, d, withMobile.PhoneNumbers[2])
	_, err = st.AddContactDetail(ctx, globex.ID, c.ID, store.PhoneDetail, &store.ContactDetail{Value: "+33611111111"}, show)
	require.ErrorIs(t, err, store.ErrNotFound)

	d.Value = "+33688888888"
	changed, err := st.UpdateContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, d, show)
	require.NoError(t, err)
	require.Equal(t, "+33688888888", changed.PhoneNumbers[2].Value)
	_, err = st.UpdateContactDetail(ctx, acme.ID, c.ID, store.EmailDetail, store.ContactDetail{ID: d.ID, Value: "x@y.test"}, show)
	require.ErrorIs(t, err, store.ErrNotFound, "a phone id is no email id")

	require.NoError(t, st.DeleteContactDetail(ctx, acme.ID, c.ID, store.EmailDetail, c.Emails[0].ID, show))
	require.ErrorIs(t, st.DeleteContactDetail(ctx, acme.ID, c.ID, store.EmailDetail, c.Emails[0].ID, show), store.ErrNotFound)
	for _, p := range withMobile.PhoneNumbers[:2] {
		require.NoError(t, st.DeleteContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, p.ID, show))
	}
	err = st.DeleteContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, d.ID, show)
	require.ErrorIs(t, err, store.ErrConflict, "the last phone number stays")
	left, err := st.Contact(ctx, acme.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, []store.ContactDetail{d}, left.PhoneNumbers, "the refused delete wrote nothing")
	require.Empty(t, left.Emails)

	require.ErrorIs(t, st.DeleteContact(ctx, globex.ID, c.ID, show), store.ErrNotFound)
	require.NoError(t, st.DeleteContact(ctx, acme.ID, c.ID, show))
	_, err = st.Contact(ctx, acme.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	var orphans int
	require.NoError(t, st.DB().Get(&orphans, `SELECT (SELECT count(*) FROM contact_phone_numbers) + (SELECT count(*) FROM contact_emails)`))
	require.Zero(t, orphans, "details go with their contact")

	// Every change wrote its event, with the contact as shown then; the
	// refused ones wrote none.
	var written []struct {
		Event string          `db:"event"`
		Data  json.RawMessage `db:"data"`
	}
	require.NoError(t, st.DB().Select(&written, "SELECT event, data FROM events WHERE company_id = $1 AND event LIKE 'contact.%' ORDER BY id", acme.ID))
	var kinds []string
	for _, w := range written {
		kinds = append(kinds, w.Event)
	}
	require.Equal(t, []string{"contact.created", "contact.updated", "contact.updated", "contact.updated", "contact.updated",
		"contact.updated", "contact.updated", "contact.deleted"}, kinds)
	require.JSONEq(t, fmt.Sprintf(`{"object": {"id": %d, "first_name": "John", "phones": 2}}`, c.ID), string(written[0].Data))
	require.JSONEq(t, fmt.Sprintf(`{"object": {"id": %d, "first_name": "Johnny", "phones": 1}}`, c.ID), string(written[7].Data),
		"the contact as it was when deleted")

	// A contact that cannot be shown is not written.
	broken := func(store.Contact) (json.RawMessage, error) { return nil, errors.New("no view") }
	lost := store.Contact{FirstName: "Lost", PhoneNumbers: phones("+33612345670")}
	require.Error(t, st.CreateContact(ctx, acme.ID, &lost, broken))
	_, total, err := st.Contacts(ctx, acme.ID, store.Page{Page: 1, PerPage: 20})
	require.NoError(t, err)
	require.Zero(t, total, "nothing half-written")
}

func TestContactDetailLimit(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	c := store.Contact{PhoneNumbers: phones("+33612345678")}
	require.NoError(t, st.CreateContact(ctx, acme.ID, &c, show))
	for i := 1; i < store.MaxContactDetails; i++ {
		_, err := st.AddContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, &store.ContactDetail{Value: fmt.Sprintf("+336123456%02d", i)}, show)
		require.NoError(t, err)
	}
	_, err := st.AddContactDetail(ctx, acme.ID, c.ID, store.PhoneDetail, &store.ContactDetail{Value: "+33700000000"}, show)
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.AddContactDetail(ctx, acme.ID, c.ID, store.EmailDetail, &store.ContactDetail{Value: "a@b.test"}, show)
	require.NoError(t, err, "each list has its own limit")
}

func TestContactCreateIsAtomic(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	// The second number breaks the table's E.164 check: nothing is kept.
	c := store.Contact{FirstName: "Half", PhoneNumbers: phones("+33612345678", "0612345678")}
	require.Error(t, st.CreateContact(ctx, acme.ID, &c, show))
	_, total, err := st.Contacts(ctx, acme.ID, store.Page{Page: 1, PerPage: 20})
	require.NoError(t, err)
	require.Zero(t, total)
	var details int
	require.NoError(t, st.DB().Get(&details, "SELECT count(*) FROM contact_phone_numbers"))
	require.Zero(t, details)
}

func TestSearchContacts(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")
	add := func(company dialplan.CompanyID, name, number, email string) store.ContactID {
		c := store.Contact{FirstName: name, PhoneNumbers: phones(number)}
		if email != "" {
			c.Emails = []store.ContactDetail{{Value: email}}
		}
		require.NoError(t, st.CreateContact(ctx, company, &c, show))
		return c.ID
	}
	ann := add(acme.ID, "Ann", "+33612345678", "ann@x.test")
	ben := add(acme.ID, "Ben", "+33612345678", "ben@x.test")
	cat := add(acme.ID, "Cat", "+442079460958", "ann@x.test")
	add(globex.ID, "Gus", "+33612345678", "ann@x.test")

	for _, tc := range []struct {
		name string
		f    store.ContactFilter
		p    store.Page
		want []store.ContactID
		all  int
	}{
		{"everyone", store.ContactFilter{}, store.Page{Page: 1, PerPage: 20}, []store.ContactID{ann, ben, cat}, 3},
		{"by phone", store.ContactFilter{Phone: "+33612345678"}, store.Page{Page: 1, PerPage: 20}, []store.ContactID{ann, ben}, 2},
		{"by email", store.ContactFilter{Email: "ann@x.test"}, store.Page{Page: 1, PerPage: 20}, []store.ContactID{ann, cat}, 2},
		{"both", store.ContactFilter{Phone: "+33612345678", Email: "ann@x.test"}, store.Page{Page: 1, PerPage: 20}, []store.ContactID{ann}, 1},
		{"nobody", store.ContactFilter{Phone: "+33700000000"}, store.Page{Page: 1, PerPage: 20}, nil, 0},
		{"paged, newest first", store.ContactFilter{Phone: "+33612345678"}, store.Page{Page: 2, PerPage: 1, Desc: true}, []store.ContactID{ann}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := st.SearchContacts(ctx, acme.ID, tc.f, tc.p)
			require.NoError(t, err)
			require.Equal(t, tc.all, total)
			var ids []store.ContactID
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

func TestContactsByPhone(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")
	oldest := store.Contact{FirstName: "Oldest", PhoneNumbers: phones("+33612345678", "+442079460958")}
	require.NoError(t, st.CreateContact(ctx, acme.ID, &oldest, show))
	newer := store.Contact{FirstName: "Newer", PhoneNumbers: phones("+33612345678")}
	require.NoError(t, st.CreateContact(ctx, acme.ID, &newer, show))
	other := store.Contact{FirstName: "Other", PhoneNumbers: phones("+15550100000")}
	require.NoError(t, st.CreateContact(ctx, globex.ID, &other, show))

	for _, tc := range []struct {
		name    string
		company dialplan.CompanyID
		numbers []string
		want    map[string]string // number → first name
	}{
		{"none asked", acme.ID, nil, map[string]string{}},
		{"the oldest wins", acme.ID, []string{"+33612345678"}, map[string]string{"+33612345678": "Oldest"}},
		{"several numbers, one unknown", acme.ID, []string{"+33612345678", "+442079460958", "+33700000000"},
			map[string]string{"+33612345678": "Oldest", "+442079460958": "Oldest"}},
		{"another company's book", acme.ID, []string{"+15550100000"}, map[string]string{}},
		{"its own book", globex.ID, []string{"+15550100000", "+33612345678"}, map[string]string{"+15550100000": "Other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.ContactsByPhone(ctx, tc.company, tc.numbers)
			require.NoError(t, err)
			names := map[string]string{}
			for number, c := range got {
				names[number] = c.FirstName
				require.NotEmpty(t, c.PhoneNumbers, "with its details")
			}
			require.Equal(t, tc.want, names)
		})
	}
}
