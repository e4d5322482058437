# syntax=docker/dockerfile:1
# Switchboard's image (docker/compose.yaml builds it): the binary built
# in a Go image, then copied alone into a small runtime image with the
# audio tools uploads and text-to-speech need (ffmpeg, espeak-ng), run
# as a user of its own.
#
#   docker build -t switchboard --build-arg VERSION=$(git describe --always --dirty) .

FROM golang:1.26 AS build
WORKDIR /src
# The modules first: a layer cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no cgo: lib/pq is pure Go), without paths of this machine.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/switchboard ./cmd/switchboard

FROM alpine:3.22
# ffmpeg converts uploads and speech to 8 kHz wav, espeak-ng speaks
# (switchboard warns and refuses uploads without them); tzdata for the
# companies' and numbers' time zones; ca-certificates for https
# webhooks.
RUN apk add --no-cache ffmpeg espeak-ng tzdata ca-certificates \
    && addgroup -S -g 10001 switchboard \
    && adduser -S -D -u 10001 -G switchboard -h /home/switchboard switchboard \
    && mkdir -p /home/switchboard/.cache/switchboard \
    && chown -R switchboard:switchboard /home/switchboard
COPY --from=build /out/switchboard /usr/local/bin/switchboard
USER 10001:10001
WORKDIR /home/switchboard
# Prompt files are kept in ~/.cache/switchboard/prompts unless
# SWITCHBOARD_PROMPTS_DIR says otherwise: a volume there (the user's
# own, made above) keeps them.
ENV HOME=/home/switchboard SWITCHBOARD_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["switchboard"]
CMD ["serve"]
