// Command compose-check loads a compose file with compose-go, the loader docker compose v2 is built on, and prints
// the project it resolves as JSON. Loading validates the file against the Compose Specification's schema, applies
// YAML merges, extensions and defaults, interpolates variables from the environment, and checks that every service,
// volume and network a service refers to is declared.
//
// It is stricter than docker compose in one way: a variable that is neither set nor given a default is an error
// here, where compose only warns and substitutes an empty string.
//
// Usage: compose-check <compose file>. Exit status 0: the file loads; 1: it does not (reasons on stderr); 2: usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose file>")
		os.Exit(2)
	}
	path := os.Args[1]
	project, err := load(context.Background(), path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// load reads the file as `docker compose -f <path> config` would, from the file's directory and with the process's
// environment, but without a .env file: what is checked is the committed file, not a developer's local settings.
func load(ctx context.Context, path string) (*types.Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	var unset []string
	options, err := cli.NewProjectOptions(
		[]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithOsEnv,
		cli.WithLoadOptions(func(o *loader.Options) {
			// Reading the files alone (before the project is loaded) interpolates nothing.
			if o.Interpolate == nil {
				return
			}
			o.Interpolate.Substitute = func(s string, mapping template.Mapping) (string, error) {
				return template.SubstituteWithOptions(s, mapping,
					template.WithoutLogging,
					template.WithReplacementFunction(func(ref string, m template.Mapping, c *template.Config) (string, error) {
						value, resolved, err := template.DefaultReplacementAppliedFunc(ref, m, c)
						if err == nil && !resolved {
							unset = append(unset, ref)
						}
						return value, err
					}))
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if len(unset) > 0 {
		slices.Sort(unset)
		return nil, errors.New("variables neither set nor given a default: " + strings.Join(slices.Compact(unset), ", "))
	}
	return project, nil
}
