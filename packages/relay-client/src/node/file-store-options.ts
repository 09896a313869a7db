/** The options both file-backed stores take, checked before the store's folder is touched. */
import {
  optionalBoolean,
  optionalFunctions,
  optionalNumber,
  optionsRecord,
} from '../check-options.js';

/** @throws `RelayError` `ERR_RELAY_INVALID_ARGUMENT` naming the first wrong option. */
export function checkFileStoreOptions(options: unknown, owner: string): void {
  const record = optionsRecord(options, owner);
  optionalFunctions(record, ['now'], owner);
  optionalBoolean(record, 'takeOverLockFromOtherHost', owner);
  optionalBoolean(record, 'sync', owner);
  optionalNumber(record, 'compactMinRecords', 1, owner, true);
  optionalNumber(record, 'compactRatio', 0, owner);
}
