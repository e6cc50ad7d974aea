// Live appointment changes of one doctor over graphql-ws, on Node.js 20 or later:
//   ACCESS_TOKEN=<accessToken from login> DOCTOR_ID=<doctor id> node examples/subscribe.mjs
// (npm ci installs graphql-ws and ws; GRAPHQL_WS_URL defaults to the local router.)
import { createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node 20 has no global WebSocket (Node 22 does)

const { ACCESS_TOKEN, DOCTOR_ID, GRAPHQL_WS_URL = 'ws://localhost:4000/graphql' } = process.env;

const client = createClient({
  url: GRAPHQL_WS_URL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${ACCESS_TOKEN}` },
  on: { connected: () => console.error('connected') },
});

client.subscribe(
  {
    query: `subscription Watch($doctorId: ObjectID!) {
      appointmentChanged(doctorId: $doctorId) { id status start patient { name } }
    }`,
    variables: { doctorId: DOCTOR_ID },
  },
  {
    next: (result) => console.log(JSON.stringify(result)),
    // GraphQL errors (an array), or why the socket closed (e.g. 4403: sign in again)
    error: (err) => {
      console.error('subscription ended:', Array.isArray(err) ? JSON.stringify(err) : err.message || `${err.code} ${err.reason}`);
      process.exitCode = 1;
    },
    complete: () => client.dispose(),
  },
);
