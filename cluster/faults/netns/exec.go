//go:build linux

package netns

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// CommandPrefix is the argv prefix that runs a program inside node's
// namespace: {"ip", "netns", "exec", <namespace>}. `ip netns exec` execs the
// program in place, so the pid the caller sees is the program's and
// Pdeathsig set on the command survives.
func (t *Topology) CommandPrefix(name string) ([]string, error) {
	n, err := t.node(name)
	if err != nil {
		return nil, err
	}
	return []string{"ip", "netns", "exec", n.ns}, nil
}

// Command is exec.CommandContext for a program run inside node's namespace.
func (t *Topology) Command(ctx context.Context, name, program string, args ...string) (*exec.Cmd, error) {
	prefix, err := t.CommandPrefix(name)
	if err != nil {
		return nil, err
	}
	argv := append(prefix[1:], program)
	return exec.CommandContext(ctx, prefix[0], append(argv, args...)...), nil
}

// runIP runs `ip args...`.
func runIP(ctx context.Context, args ...string) error {
	_, err := outputIP(ctx, args...)
	return err
}

// outputIP runs `ip args...` and returns its standard output.
func outputIP(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "", "ip", args...)
}

// runNFT loads an nft script inside namespace ns. `nft -f` applies a script
// as one transaction: the rules change all at once or not at all.
func runNFT(ctx context.Context, ns, script string) error {
	_, err := run(ctx, script, "ip", "netns", "exec", ns, "nft", "-f", "-")
	if err != nil {
		return fmt.Errorf("%w\nscript:\n%s", err, script)
	}
	return nil
}

func run(ctx context.Context, stdin, program string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, program, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("netns: %s %s: %w: %s", program, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
