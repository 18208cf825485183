# wsgate-ingress image: a static binary on distroless, run as non-root.
# Build from the repository root:
#   docker build -f deploy/wsgate-ingress.Dockerfile -t wsgate-ingress .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/wsgate-ingress ./cmd/wsgate-ingress

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wsgate-ingress /wsgate-ingress
USER 65532:65532
EXPOSE 8080 8443 10254
ENTRYPOINT ["/wsgate-ingress"]
