// Command registry serves a CNCF Distribution registry from memory, for the
// container test: built as a static binary, it is the only file of the
// registry image that test assembles, so the registry can run as a service
// container without pulling an image.
//
//	registry [-addr :5000] [-htpasswd FILE]
//
// With -htpasswd, every request needs a user and password of FILE (bcrypt
// lines, as `htpasswd -B` writes them).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	addr := flag.String("addr", ":5000", "address to listen on")
	htpasswd := flag.String("htpasswd", "", "htpasswd file; empty: no authentication")
	flag.Parse()
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory": configuration.Parameters{},
			"delete":   configuration.Parameters{"enabled": true},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{
				"enabled": false,
			}},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "container-test-secret"
	if *htpasswd != "" {
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "registry", "path": *htpasswd}}
	}
	app := handlers.NewApp(context.Background(), cfg)
	if err := http.ListenAndServe(*addr, app); err != nil {
		fmt.Fprintln(os.Stderr, "serving:", err)
		os.Exit(1)
	}
}
