package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// Client is a Service that calls a bakery server's API. Errors the server
// answers are *Problem values, which unwrap to the sentinels Service
// documents.
type Client struct {
	BaseURL string // the server, e.g. http://bakery:8080
	Token   string // bearer token; "" for anonymous reads
	HTTP    *http.Client
}

var _ Service = (*Client)(nil)

// maxAnswer bounds an answer read from the server.
const maxAnswer = 256 << 20

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := strings.TrimSuffix(c.BaseURL, "/") + Prefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("calling %s: %w", u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, u, err)
	}
	if resp.StatusCode >= 300 {
		return answerProblem(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the answer of %s %s: %w", method, u, err)
	}
	return nil
}

// answerProblem turns an error answer into a *Problem, also when the
// server (or a proxy before it) sent no problem object.
func answerProblem(resp *http.Response, data []byte) error {
	p := &Problem{}
	if json.Unmarshal(data, p) != nil || p.Status == 0 {
		p = &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(data))}
	}
	if p.Detail == "" {
		p.Detail = p.Title
	}
	p.Detail = fmt.Sprintf("%s (HTTP %d)", p.Detail, p.Status)
	return p
}

// Images lists images. See Service.
func (c *Client) Images(ctx context.Context, opt ListOptions) ([]ImageEntry, error) {
	q := url.Values{}
	setIf(q, "product", opt.Product)
	setIf(q, "channel", opt.Channel)
	q.Set("limit", strconv.Itoa(opt.Limit)) // always: the server's default is not "all"
	if opt.Packages {
		q.Set("packages", "true")
	}
	var out []ImageEntry
	return out, c.do(ctx, "GET", "images", q, nil, &out)
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Image returns one image. See Service.
func (c *Client) Image(ctx context.Context, name string) (ImageEntry, error) {
	var out ImageEntry
	return out, c.do(ctx, "GET", "images/"+url.PathEscape(name), nil, nil, &out)
}

// Products lists the products. See Service.
func (c *Client) Products(ctx context.Context) ([]Product, error) {
	var out []Product
	return out, c.do(ctx, "GET", "products", nil, nil, &out)
}

func productPath(product, what string) string {
	return "products/" + url.PathEscape(product) + "/" + what
}

// Changelog compares two images. See Service.
func (c *Client) Changelog(ctx context.Context, product, from, to string) (Changelog, error) {
	var out Changelog
	return out, c.do(ctx, "GET", productPath(product, "changelog"), url.Values{"from": {from}, "to": {to}}, nil, &out)
}

// Promote promotes a version. See Service.
func (c *Client) Promote(ctx context.Context, product string, r PromoteRequest) (catalog.Event, error) {
	var out catalog.Event
	return out, c.do(ctx, "POST", productPath(product, "promote"), nil, r, &out)
}

// Revoke revokes a version. See Service.
func (c *Client) Revoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error) {
	var out catalog.Event
	return out, c.do(ctx, "POST", productPath(product, "revoke"), nil, r, &out)
}

// Unrevoke undoes a revocation. See Service.
func (c *Client) Unrevoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error) {
	var out catalog.Event
	return out, c.do(ctx, "POST", productPath(product, "unrevoke"), nil, r, &out)
}

// SecurityRelease marks a security release. See Service.
func (c *Client) SecurityRelease(ctx context.Context, product string, r SecurityRequest) (catalog.Event, error) {
	var out catalog.Event
	return out, c.do(ctx, "POST", productPath(product, "security-release"), nil, r, &out)
}

// Pin returns a product's pin. See Service.
func (c *Client) Pin(ctx context.Context, product, channel, override string) (release.Pin, error) {
	q := url.Values{"channel": {channel}}
	setIf(q, "override", override)
	var out release.Pin
	return out, c.do(ctx, "GET", productPath(product, "pins"), q, nil, &out)
}

// Support returns a product's lines. See Service.
func (c *Client) Support(ctx context.Context, product string) (Support, error) {
	var out Support
	return out, c.do(ctx, "GET", productPath(product, "support"), nil, nil, &out)
}

// UpgradePath returns the hops between two versions. See Service.
func (c *Client) UpgradePath(ctx context.Context, product, from, to string, allowMajor bool) ([]Hop, error) {
	q := url.Values{"from": {from}, "to": {to}, "allow_major": {strconv.FormatBool(allowMajor)}}
	var out []Hop
	return out, c.do(ctx, "GET", productPath(product, "upgrade-path"), q, nil, &out)
}

// Events returns the audit log. See Service.
func (c *Client) Events(ctx context.Context, product string) ([]catalog.Event, error) {
	q := url.Values{}
	setIf(q, "product", product)
	var out []catalog.Event
	return out, c.do(ctx, "GET", "events", q, nil, &out)
}
