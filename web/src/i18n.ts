import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import campaignsEn from './locales/campaigns.en.json';
import campaignsTh from './locales/campaigns.th.json';
import en from './locales/en.json';
import journeysEn from './locales/journeys.en.json';
import journeysTh from './locales/journeys.th.json';
import settingsEn from './locales/settings.en.json';
import settingsTh from './locales/settings.th.json';
import th from './locales/th.json';

export const LANGUAGES = ['th', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'sampan.lang';

function storedLanguage(): Language {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    if (value === 'th' || value === 'en') return value;
  } catch {
    // no storage: Thai
  }
  return 'th';
}

// One file per area of the console and language; each owns its own top-level keys.
const resources = {
  th: { translation: { ...th, ...journeysTh, ...campaignsTh, ...settingsTh } },
  en: { translation: { ...en, ...journeysEn, ...campaignsEn, ...settingsEn } },
};

void i18n.use(initReactI18next).init({
  resources,
  lng: storedLanguage(),
  fallbackLng: 'th',
  supportedLngs: LANGUAGES,
  interpolation: { escapeValue: false },
  returnNull: false,
});

function mark(language: string) {
  document.documentElement.lang = language;
}
mark(i18n.language);
i18n.on('languageChanged', mark);

/** Switch the console's language and remember it in this browser. */
export function setLanguage(language: Language): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // the switch still works for this visit
  }
  void i18n.changeLanguage(language);
}

export default i18n;
