// Package docs holds the published documentation that ships with the binary.
package docs

import _ "embed"

// OpenAPI is the exchange specification departments write clients against:
// the OpenAPI 3.1 description of every route the API registers, its request
// and response shapes, errors and authentication.
//
//go:embed openapi.yaml
var OpenAPI []byte
