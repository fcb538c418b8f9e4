package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

func xmlWellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("SVG is not well-formed XML: %w", err)
		}
	}
}
