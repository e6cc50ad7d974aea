# One image for every HealthSync process; docker-compose.yml picks the entry per service.
FROM node:20.20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY platform ./platform
COPY subgraphs ./subgraphs
COPY router ./router
COPY web ./web
COPY schema ./schema
COPY scripts ./scripts
COPY tsconfig.json ./
ENV NODE_ENV=production HOST=0.0.0.0
USER node
