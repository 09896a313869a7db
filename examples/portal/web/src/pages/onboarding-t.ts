/** The onboarding/rights pages' `t`, in the app's current language (shared by their chunks). */
import { useMemo } from 'react';
import { useApp } from '../context.tsx';
import { type OnboardingTranslate, onboardingTranslate } from './onboarding.i18n.ts';

export function useOnboardingT(): OnboardingTranslate {
  const { locale } = useApp();
  return useMemo(() => onboardingTranslate(locale), [locale]);
}
