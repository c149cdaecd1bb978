#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CdpStack } from '../lib/cdp-stack.js';
import { stackFromContext } from '../lib/context.js';

const app = new App();
const { stackName, props } = stackFromContext(app);
new CdpStack(app, stackName, { ...props, env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
