package api

import (
	"net/http"
	"strings"

	"pubcredit/internal/catalog"
	"pubcredit/internal/errs"
)

// listCatalog publishes the whole catalog: catalogs must be public.
func (a *API) listCatalog(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{
		"categories": catalog.Categories,
		"items":      a.Catalog.Items,
	})
}

func (a *API) getCatalogItem(w http.ResponseWriter, r *http.Request) error {
	it, ok := a.Catalog.Item(r.PathValue("code"))
	if !ok {
		return errs.E(errs.NotFound, "no catalog item %q (known: %s)", errs.Clip(r.PathValue("code"), 40), strings.Join(a.Catalog.Codes(), ", "))
	}
	return writeJSON(w, http.StatusOK, it)
}
