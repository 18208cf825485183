package main

import (
	"fmt"
	"strings"
)

// options is nginx's command line (ngx_get_options in src/core/nginx.c):
// single-letter flags, values either glued ("-cfile") or in the next
// argument ("-c file").
type options struct {
	help    bool
	version bool // -v
	build   bool // -V
	test    bool // -t
	dump    bool // -T (implies -t)
	quiet   bool // -q
	prefix  string
	conf    string
	globals string
	errLog  string
	signal  string // -s stop|quit|reopen|reload
}

// parseOptions reads nginx's flags. Errors are worded as nginx's
// ("invalid option: \"-x\"").
func parseOptions(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			return nil, fmt.Errorf("invalid option: %q", a)
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case '?', 'h':
				o.help = true
			case 'v':
				o.version = true
			case 'V':
				o.version, o.build = true, true
			case 't':
				o.test = true
			case 'T':
				o.test, o.dump = true, true
			case 'q':
				o.quiet = true
			case 'p', 'c', 'g', 'e', 's':
				flag := a[j]
				var val string
				switch {
				case j+1 < len(a):
					val = a[j+1:]
				case i+1 < len(args):
					i++
					val = args[i]
				default:
					return nil, fmt.Errorf("option \"-%c\" requires %s", flag, optionNoun(flag))
				}
				switch flag {
				case 'p':
					o.prefix = val
					if !strings.HasSuffix(o.prefix, "/") {
						o.prefix += "/"
					}
				case 'c':
					o.conf = val
				case 'g':
					o.globals = val
				case 'e':
					o.errLog = val
				case 's':
					switch val {
					case "stop", "quit", "reopen", "reload":
						o.signal = val
					default:
						return nil, fmt.Errorf("invalid option: \"-s %s\"", val)
					}
				}
				j = len(a)
			default:
				return nil, fmt.Errorf("invalid option: %q", a[j:])
			}
		}
	}
	return o, nil
}

func optionNoun(flag byte) string {
	switch flag {
	case 'p':
		return "directory name"
	case 'c', 'e':
		return "file name"
	case 'g':
		return "directives"
	}
	return "signal"
}

const usage = `Usage: wsgate [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]
       wsgate demo [flags]     run the tutorial's setup with built-in backends
       wsgate probe [flags] URL check that a URL speaks WebSocket, and say why not

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to the running wsgate: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: the directory of the configuration file)
  -e filename   : set error log file (default: stderr)
  -c filename   : set configuration file (default: nginx's /etc/nginx/nginx.conf
                  when it exists and -p is not given, else nginx.conf in the prefix)
  -g directives : set global directives out of configuration file
`
