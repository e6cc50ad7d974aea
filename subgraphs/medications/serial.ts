import { KeyedQueue } from '../../platform/keyedQueue';

/**
 * Runs the writes to one document one after another inside this process.
 *
 * Why: every stock and fill change is a conditional single-document update (`findOneAndUpdate`
 * with `stockOnHand: {$gte: qty}` and `$inc`), which MongoDB applies atomically. FerretDB 1.24
 * on SQLite (the embedded database of `npm start` and `npm test`) does not: it reads the
 * document, applies the operators in Go and writes the whole document back, so two concurrent
 * updates of one document can both pass the filter and one `$inc` is lost (50 parallel
 * decrements of a stock of 10 all "succeed" there). Queuing the writes per document makes the
 * embedded database behave; with MongoDB, the conditional updates alone also hold across
 * several instances of the service.
 */
export class WriteQueue extends KeyedQueue {}
