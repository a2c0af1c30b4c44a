package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/surat-mail/surat/cluster"
)

const clusterUsage = `Usage:
  surat cluster status [--server URL]   members, their state and applied index
  surat cluster keygen [--out FILE]     make a cluster key (stdout, or FILE with mode 0600)
`

func runCluster(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, clusterUsage)
		if len(args) == 0 {
			return usagef("cluster: missing subcommand (status, keygen)")
		}
		return errHelp
	}
	switch args[0] {
	case "status":
		return clusterStatus(ctx, e, args[1:])
	case "keygen":
		return clusterKeygen(e, args[1:])
	default:
		return usagef("cluster: unknown subcommand %q (status, keygen)", args[0])
	}
}

func clusterStatus(ctx context.Context, e *env, args []string) error {
	fs, cf := newClientFlagSet("cluster status", false)
	pos, err := parseCommand(e, fs, args, clusterUsage)
	if err != nil {
		return err
	}
	if err := wantArgs("cluster status", pos); err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		return fmt.Errorf("cluster status: %w", err)
	}
	writeStatus(e, st)
	return nil
}

// writeStatus prints the members as a table; the leader is marked '*' and
// the node that answered '(self)'.
func writeStatus(e *env, st cluster.Status) {
	leader := st.Leader
	if leader == "" {
		leader = "none (no leader known)"
	}
	fmt.Fprintf(e.stdout, "leader: %s\nanswered by: %s\n\n", leader, st.Self)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSTATE\tAPPLIED\tVOTER\tRAFT ADDRESS")
	for _, m := range st.Members {
		id := m.ID
		if m.ID == st.Leader {
			id += " *"
		}
		if m.ID == st.Self {
			id += " (self)"
		}
		voter := "no"
		if m.Voter {
			voter = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", id, m.State, m.AppliedIndex, voter, m.RaftAddr)
	}
	tw.Flush()
}

func clusterKeygen(e *env, args []string) error {
	fs := newFlagSet("cluster keygen")
	out := fs.String("out", "", "write the key to `FILE` (mode 0600, never overwritten) instead of stdout")
	pos, err := parseCommand(e, fs, args, clusterUsage)
	if err != nil {
		return err
	}
	if err := wantArgs("cluster keygen", pos); err != nil {
		return err
	}
	if *out == "" {
		key, err := cluster.GenerateKey()
		if err != nil {
			return fmt.Errorf("cluster keygen: %w", err)
		}
		fmt.Fprintln(e.stdout, cluster.EncodeKey(key))
		return nil
	}
	if err := cluster.GenerateKeyFile(*out); err != nil {
		return fmt.Errorf("cluster keygen: %w", err)
	}
	fmt.Fprintf(e.stdout, "cluster key written to %s; give every node --cluster-key-file %s (or its content in SURAT_CLUSTER_KEY)\n", *out, *out)
	return nil
}
