import { GraphQLError } from 'graphql';
import mongoose from 'mongoose';
import { toClientError } from './errors';

/** As a resolver's failure reaches formatError: wrapped in a GraphQLError with a path. */
function format(err: Error) {
  const wrapped = new GraphQLError(err.message, { originalError: err, path: ['bookAppointment'] });
  return toClientError(wrapped.toJSON(), wrapped);
}

describe('errors a client sees', () => {
  it('answers an unreachable database with the retryable SUBGRAPH_UNAVAILABLE, without its message', () => {
    for (const err of [
      new mongoose.mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27018'),
      new mongoose.Error('Operation `appointments.insertOne()` buffering timed out after 10000ms'),
      // What the driver passes on unwrapped when a write meets a connection the server closed.
      Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }),
    ]) {
      expect(format(err)).toMatchObject({ message: 'The database is unavailable right now; please try again shortly', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });
    }
  });

  it('still masks any other failure as INTERNAL_SERVER_ERROR', () => {
    expect(format(new Error('E11000 something inside'))).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});
