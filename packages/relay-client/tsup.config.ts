import { fluxelTsup } from '../../tsup.base.ts';

export default fluxelTsup(import.meta.dirname);
