/** `@fluxel-example/system`: the launcher and helpers, for the demo, the e2e suite and the load suite. */
export { type AdminLicense, type LicenseAdminClient, licenseAdminClient } from './admin.ts';
export { type RaisedAlert, readAuditEvents, scanAlerts } from './alerts.ts';
export {
  type AgentRun,
  type ComponentName,
  type System,
  type SystemOptions,
  type SystemPorts,
  type SystemSecrets,
  startSystem,
} from './launch.ts';
export { onLifelineCut } from './lifeline.ts';
export { PortalClient, type PortalResponse } from './portal-client.ts';
export { candidatePort, portInUse } from './ports.ts';
export { repoRoot, runOnce, Service, type ServiceOptions } from './proc.ts';
export { demoPassword, inviteAndSignUp, type PortalUser, signUpFirstAdmin } from './seed.ts';
export { totp } from './totp.ts';
