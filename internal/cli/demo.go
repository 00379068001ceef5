package cli

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/set-image-platform/set-image-platform/internal/demo"
	"github.com/set-image-platform/set-image-platform/internal/engine"
)

// Demo starts the demo registry, sets linux/amd64 on its sample image and
// prints the config's platform before and after.
func Demo(ctx context.Context, env Env) error {
	reg, err := demo.Start(ctx, env.Transport)
	if err != nil {
		return report(env, err)
	}
	defer reg.Close()
	before, err := reg.Platform(ctx)
	if err != nil {
		return report(env, err)
	}
	fmt.Fprintf(env.Stdout, "demo: registry on %s holds %s, built like `pack buildpack package` makes it\n", reg.Addr, reg.Ref)
	fmt.Fprintf(env.Stdout, "before: config says %s\n\n", before)

	cfg, err := engine.NewConfig(engine.Input{Images: []string{reg.Ref.String()}, Platform: "linux/amd64"})
	if err != nil {
		return report(env, err)
	}
	fmt.Fprintf(env.Stdout, "$ set-image-platform --platform linux/amd64 %s\n", reg.Ref)
	o, err := engine.Run(ctx, cfg, engine.Deps{Transport: env.Transport, Keychain: authn.DefaultKeychain, Log: &logger{w: env.Stdout, errw: env.Stdout}, Words: words})
	if err != nil {
		return report(env, err)
	}
	if err := o.Failed(); err != nil {
		return err
	}
	after, err := reg.Platform(ctx)
	if err != nil {
		return report(env, err)
	}
	fmt.Fprintf(env.Stdout, "\nafter:  config says %s\n", after)
	return nil
}
