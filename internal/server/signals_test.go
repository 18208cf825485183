package server

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestHandleSignals checks what each of nginx's signals does to a running
// server, fed through the channel Run reads.
func TestHandleSignals(t *testing.T) {
	tests := []struct {
		name string
		sig  syscall.Signal
		// stops: the handler returns with the server stopped.
		stops bool
	}{
		{"HUP reloads", syscall.SIGHUP, false},
		{"USR1 reopens logs", syscall.SIGUSR1, false},
		{"QUIT stops gracefully", syscall.SIGQUIT, true},
		{"TERM stops fast", syscall.SIGTERM, true},
		{"INT stops fast", syscall.SIGINT, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := proxytest.FreeAddr(t)
			dir := t.TempDir()
			logPath := filepath.Join(dir, "access.log")
			withLog := func(body string) string {
				return strings.Replace(confFor(body, a), "access_log off;", "access_log "+logPath+";", 1)
			}
			ts := start(t, withLog("one"), Options{})
			mustGet(t, a, "one")

			ch := make(chan os.Signal, 1)
			returned := make(chan struct{})
			go func() {
				ts.s.handleSignals(ch, 5*time.Second)
				close(returned)
			}()
			defer func() {
				close(ch)
				<-returned
			}()

			switch tc.sig {
			case syscall.SIGHUP:
				ts.write(withLog("two"))
			case syscall.SIGUSR1:
				if err := os.Rename(logPath, logPath+".1"); err != nil {
					t.Fatal(err)
				}
			}
			ch <- tc.sig

			if tc.stops {
				select {
				case <-returned:
				case <-time.After(10 * time.Second):
					t.Fatalf("%v did not stop the server", tc.sig)
				}
				if !refused(a) {
					t.Errorf("%s still accepts after %v", a, tc.sig)
				}
				return
			}
			switch tc.sig {
			case syscall.SIGHUP:
				if !proxytest.Poll(10*time.Second, func() bool { b, _ := get(a); return b == "two" }) {
					t.Errorf("HUP: the new configuration was not published")
				}
			case syscall.SIGUSR1:
				if !proxytest.Poll(10*time.Second, func() bool { _, err := os.Stat(logPath); return err == nil }) {
					t.Errorf("USR1: %s was not opened again", logPath)
				}
			}
			select {
			case <-returned:
				t.Errorf("%v ended the signal loop", tc.sig)
			default:
			}
		})
	}
}

// TestRunSignals sends real signals to the test process: a HUP sent
// after Notify but before Run has started waits for Run and reloads, TERM
// ends Run.
func TestRunSignals(t *testing.T) {
	sigs := Notify()
	a := proxytest.FreeAddr(t)
	ts := start(t, confFor("one", a), Options{})
	ts.write(confFor("two", a))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	returned := make(chan struct{})
	go func() {
		ts.s.Run(sigs, 5*time.Second)
		close(returned)
	}()
	reloaded := proxytest.Poll(10*time.Second, func() bool {
		b, _ := get(a)
		return b == "two"
	})
	if !reloaded {
		t.Fatal("a HUP sent before Run did not reload")
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("TERM to the process did not end Run")
	}
	if !refused(a) {
		t.Errorf("%s still accepts after TERM", a)
	}
}

func TestSignalFor(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    syscall.Signal
		wantErr bool
	}{
		{"stop", syscall.SIGTERM, false},
		{"quit", syscall.SIGQUIT, false},
		{"reopen", syscall.SIGUSR1, false},
		{"reload", syscall.SIGHUP, false},
		{"restart", 0, true},
	} {
		got, err := signalFor(tc.command)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: got %v, %v; want %v, error %v", tc.command, got, err, tc.want, tc.wantErr)
		}
	}
}
