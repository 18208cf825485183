package procstat

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTreeCountsChildren: a child that has burnt CPU adds it to its
// parent's tree (nginx's workers to their master's).
func TestTreeCountsChildren(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		child, err := CPU(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if child >= 50*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Skip("the child burnt too little CPU to be seen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	self, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	u, s, err := TreeCPUSplit(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if tree := u + s; tree < self+50*time.Millisecond {
		t.Errorf("tree CPU %v; want at least this process's %v and the child's 50 ms", tree, self)
	}
}
