package access

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file is auth_basic and auth_basic_user_file
// (ngx_http_auth_basic_module): RFC 7617 Basic credentials checked
// against an htpasswd file. As nginx does, the file is opened and read
// at every request that brings credentials, so that an edited file takes
// effect at once, without a reload; nothing of it is cached.

// ParseBasic reads an Authorization value as ngx_http_auth_basic_user
// does: "Basic" (any case), spaces, base64 (what follows a first "=" is
// ignored) of "user:password" with a user that is not empty. The decoded
// bytes are appended to buf, which user and password alias; ok is false
// for anything else. The password ends at a NUL byte, as nginx's C
// string does.
func ParseBasic(value, buf []byte) (user, password, out []byte, ok bool) {
	const scheme = "basic "
	if len(value) < len(scheme) || !bytes.EqualFold(value[:len(scheme)], []byte(scheme)) {
		return nil, nil, buf, false
	}
	enc := bytes.TrimLeft(value[len(scheme):], " ")
	if i := bytes.IndexByte(enc, '='); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) == 0 {
		return nil, nil, buf, false
	}
	start := len(buf)
	buf = append(buf, make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))...)
	n, err := base64.RawStdEncoding.Decode(buf[start:], enc)
	if err != nil {
		return nil, nil, buf[:start], false
	}
	dec := buf[start : start+n]
	buf = buf[:start+n]
	i := bytes.IndexByte(dec, ':')
	if i <= 0 {
		return nil, nil, buf, false
	}
	user, password = dec[:i], dec[i+1:]
	if j := bytes.IndexByte(password, 0); j >= 0 {
		password = password[:j]
	}
	return user, password, buf, true
}

// Basic is a location's compiled auth_basic; nil where there is none.
type Basic struct {
	realm    *vars.Template
	userFile *vars.Template
	dir      string
}

// CompileBasic compiles lc's auth_basic; nil when the location has no
// realm or no user file, where nginx's handler declines. dir is the
// directory a relative user file is taken from (nginx's conf_prefix: that
// of the main configuration file). Errors are added to errs at their
// directive.
func CompileBasic(lc *config.LocConf, vc *vars.Compiler, dir string, errs *config.ErrorList) *Basic {
	if lc.AuthBasic == nil || lc.AuthBasicUserFile == nil {
		return nil
	}
	realm, err := vc.Compile(lc.AuthBasic.Text)
	if err != nil {
		errs.Add(lc.AuthBasic.Pos, "auth_basic: %v", err)
	}
	file, err2 := vc.Compile(lc.AuthBasicUserFile.Text)
	if err2 != nil {
		errs.Add(lc.AuthBasicUserFile.Pos, "auth_basic_user_file: %v", err2)
	}
	if err != nil || err2 != nil {
		return nil
	}
	return &Basic{realm: realm, userFile: file, dir: dir}
}

// Decision is what an access check decided.
type Decision int

const (
	// Declined: the check does not apply ("auth_basic off", or a realm
	// that evaluates to "off").
	Declined Decision = iota
	// Allowed: the credentials match the user file.
	Allowed
	// Unauthorized: no, bad or unknown credentials: 401 with a
	// WWW-Authenticate challenge for the realm.
	Unauthorized
	// Forbidden: the user file does not exist (403, as nginx).
	Forbidden
	// Failed: the user file cannot be read, or its entry for the user
	// has a form wsgate cannot check (500).
	Failed
)

// BasicRequest is one request's view for a Basic check: its variables
// and the credentials ParseBasic read (HasCredentials false when it read
// none).
type BasicRequest struct {
	Vars           *vars.Ctx
	User, Password []byte
	HasCredentials bool
}

// Check decides r. Realm is the evaluated realm, appended to buf, for the
// challenge; why says, for the error log, why a request that brought
// credentials was refused (nginx's wording), and err what failed.
func (b *Basic) Check(r *BasicRequest, buf []byte) (d Decision, realm []byte, why string, err error) {
	realm = b.realm.Append(buf[:0], r.Vars)
	if string(realm) == "off" {
		return Declined, realm, "", nil
	}
	if !r.HasCredentials {
		return Unauthorized, realm, "no user/password was provided for basic authentication", nil
	}
	path := b.userFile.Append(nil, r.Vars)
	name := string(path)
	if !filepath.IsAbs(name) {
		name = filepath.Join(b.dir, name)
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Forbidden, realm, "", err
		}
		return Failed, realm, "", err
	}
	defer f.Close()
	stored, found, err := findUser(bufio.NewReader(f), r.User)
	if err != nil {
		return Failed, realm, "", err
	}
	if !found {
		return Unauthorized, realm, "user was not found in " + name, nil
	}
	ok, err := VerifyPassword(r.Password, stored)
	switch {
	case err != nil:
		return Failed, realm, "", err
	case !ok:
		return Unauthorized, realm, "password mismatch", nil
	}
	return Allowed, realm, "", nil
}

// findUser reads an htpasswd file as ngx_http_auth_basic_handler does:
// lines "user:entry[:comment]"; lines starting with "#" or CR are
// skipped; the entry ends at ":", CR or LF. The first line for user
// counts.
func findUser(rd *bufio.Reader, user []byte) (stored []byte, found bool, err error) {
	for {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 && line[0] != '#' && line[0] != '\r' {
			if rest, ok := bytes.CutPrefix(line, user); ok && len(rest) > 0 && rest[0] == ':' {
				rest = rest[1:]
				if i := bytes.IndexAny(rest, ":\r\n"); i >= 0 {
					rest = rest[:i]
				}
				return rest, true, nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, false, nil
			}
			return nil, false, err
		}
	}
}
