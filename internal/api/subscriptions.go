package api

import (
	"net/http"

	"pubcredit/internal/delivery"
)

// newSubscriptionJSON is a subscription as its department first sees it:
// with its signing secret, shown this once.
type newSubscriptionJSON struct {
	delivery.Subscription
	Secret string `json:"secret"`
}

// subscribe is POST /api/v1/subscriptions: 201 with the secret.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req delivery.Request
	if err := decodeJSON(r, a.MaxBody, &req); err != nil {
		return err
	}
	sub, secret, err := a.Deliveries.Subscribe(r.Context(), p, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/subscriptions/"+sub.ID)
	return writeJSON(w, http.StatusCreated, newSubscriptionJSON{Subscription: sub, Secret: secret})
}

// listSubscriptions is the department's own subscriptions, without secrets.
func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	subs, err := a.Deliveries.Subscriptions(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"subscriptions": subs})
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	sub, err := a.Deliveries.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sub)
}

// unsubscribe is DELETE /api/v1/subscriptions/{id}: 200 with the ended
// subscription.
func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	sub, err := a.Deliveries.Unsubscribe(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sub)
}

// listDeliveries is ?status=&after=&limit=: each delivery with its attempts,
// never a receiver's answer.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ds, err := a.Deliveries.Deliveries(r.Context(), p, id, delivery.Status(q.Get("status")), q.Get("after"), limit)
	if err != nil {
		return err
	}
	out := map[string]any{"subscription": id, "deliveries": ds}
	if len(ds) == limit {
		out["next_after"] = ds[len(ds)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// redeliver is POST .../deliveries/{delivery}/redeliver: the delivery is
// pending again, due now.
func (a *API) redeliver(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	d, err := a.Deliveries.Redeliver(r.Context(), p, r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}
