// A gated "necessary" script: proves revived scripts run under the policy.
document.documentElement.dataset.necessaryRan = 'yes';
