export * from './eks-connection.js';
export * from './kube-access.js';
export * from './kubernetes-job-runner.js';
export * from './manifest-validation.js';
export * from './names.js';
export * from './settings.js';
export * from './stores-network-policy.js';
export * from './worker-job.js';
