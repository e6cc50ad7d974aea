# One image for every HealthSync process; docker-compose.yml picks the entry per service
# (`node dist/subgraphs/<name>/index.js`, `node dist/scripts/seed.js`; the router by default).
# Build:  docker build -t healthsync .      Run: docker compose up --build (see README "Docker").

# ---- build: all dependencies, resolver types, TypeScript compiled to dist/ (npm run build)
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json codegen.ts ./
COPY platform ./platform
COPY subgraphs ./subgraphs
COPY router ./router
COPY scripts ./scripts
COPY schema ./schema
COPY web ./web
RUN npm run build

# ---- runtime: production dependencies and the compiled code only; no TypeScript, no tsx
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own user (uid 1000), not root; the code is root-owned and read-only to it.
USER node
# router 4000; subgraphs patients 4001, doctors 4002, appointments 4003, medications 4004,
# notifications 4005, analytics 4006, accounts 4007 (each container listens on its PORT).
EXPOSE 4000 4001 4002 4003 4004 4005 4006 4007
# GET /health on this container's HOST:PORT (scripts/healthcheck.ts; the slim image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/scripts/healthcheck.js", "/health"]
CMD ["node", "dist/router/index.js"]
