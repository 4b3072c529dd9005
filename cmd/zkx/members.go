package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/zkx-dev/zkx/pkg/ensemble"
)

const membersUsage = `Usage:
  zkx members list   --raft HOST:PORT [--json]
  zkx members add    --raft HOST:PORT --id N --member-raft HOST:PORT [--client HOST:PORT] [--role voter|observer]
  zkx members remove --raft HOST:PORT --id N

--raft is the raft address of any member of the ensemble; a member that
does not lead passes the request to the leader. Start a new member with
ensemble.join: true before adding it. See docs/ensemble.md.

Flags:
`

// members implements `zkx members`: list, add and remove ensemble members
// while the ensemble serves.
func (a *app) members(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, membersUsage)
		return 2
	}
	op, rest := args[0], args[1:]
	fs := flag.NewFlagSet("zkx members "+op, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	var (
		addr       = fs.String("raft", "", "raft address of any member, HOST:PORT")
		id         = fs.Int("id", 0, "member id, 1..255 (add, remove)")
		memberRaft = fs.String("member-raft", "", "raft address of the member to add (add)")
		client     = fs.String("client", "", "client address of the member to add, for listings (add)")
		role       = fs.String("role", "voter", "voter or observer (add)")
		asJSON     = fs.Bool("json", false, "print the member list as JSON")
	)
	fs.Usage = func() {
		fmt.Fprint(a.stderr, membersUsage)
		fs.PrintDefaults()
	}
	switch op {
	case "list", "add", "remove":
	case "help", "-h", "-help", "--help":
		fs.Usage()
		return 0
	default:
		fmt.Fprintf(a.stderr, "zkx members: unknown operation %q\n\n", op)
		fs.Usage()
		return 2
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "zkx members %s: unexpected argument %q\n", op, fs.Arg(0))
		return 2
	}
	var missing []string
	if *addr == "" {
		missing = append(missing, "--raft")
	}
	if op != "list" && *id == 0 {
		missing = append(missing, "--id")
	}
	if op == "add" && *memberRaft == "" {
		missing = append(missing, "--member-raft")
	}
	if len(missing) > 0 {
		for _, m := range missing {
			fmt.Fprintf(a.stderr, "zkx members %s: %s is required\n", op, m)
		}
		fs.Usage()
		return 2
	}
	req := ensemble.AdminRequest{Op: op, ID: *id, Raft: *memberRaft, Client: *client, Role: *role}
	resp, err := ensemble.AdminCall(*addr, req)
	if err != nil {
		fmt.Fprintf(a.stderr, "zkx members %s: %v\n", op, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(resp.Members)
		return 0
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tRAFT\tCLIENT\tLEADER")
	for _, m := range resp.Members {
		leader := ""
		if m.Leader {
			leader = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Role, m.Raft, m.Client, leader)
	}
	tw.Flush()
	return 0
}
